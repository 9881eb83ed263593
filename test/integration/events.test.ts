// `tsrun events` on real containers and this host's cgroup v1: --stats
// against the cgroup files read directly, a stream at --interval that ends
// when the container stops, "oom" events from a container that exceeds its
// memory limit (the v1 eventfd of memory.oom_control), and runc's
// refusals. Formatting and cgroup v2 are in test/unit/events-format.test.ts.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { type Env, env, hostHierarchies, processesMentioning, requireRoot, tsrunCmd, tsrunShell, uniqueId } from '../helpers/tsrun';
import { waitFor } from '../helpers/wait';

type Config = Record<string, any>;
const MiB = 1024 * 1024;

/** A file of a process's cgroup in the v1 hierarchy of `controller`, found from /proc/<pid>/cgroup (not from tsrun's record). */
function cgroupFile(pid: number, controller: string, file: string): string {
  const h = hostHierarchies().find((x) => x.controllers.split(',').includes(controller));
  if (!h) throw new Error(`no ${controller} hierarchy`);
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((l) => l.split(':')[1] === h.controllers);
  if (!line) throw new Error(`process ${pid} has no ${controller} cgroup`);
  return readFileSync(join(h.mountpoint, line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1), file), 'utf8').trim();
}

const statusOf = (e: Env, id: string) => JSON.parse(e.tsrun(['state', id]).stdout || '{}').status as string | undefined;
const pidOf = (e: Env, id: string) => JSON.parse(e.tsrun(['state', id]).stdout).pid as number;

/** `tsrun events` running in the background: its lines as they come. */
interface Stream {
  child: ChildProcess;
  lines: string[];
  stderr(): string;
  /** Resolves once `n` lines match, false after `ms`. */
  waitLines(pred: (line: string) => boolean, n: number, ms: number): Promise<boolean>;
  /** Resolves with the exit status, or 'running' after `ms`. */
  exit(ms: number): Promise<number | null | 'running'>;
}

function startEvents(t: Test, e: Env, args: string[]): Stream {
  const child = spawn(tsrunCmd[0], [...tsrunCmd.slice(1), '--root', e.root, 'events', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  let err = '';
  let code: number | null | undefined;
  const wakers = new Set<() => void>();
  const wake = () => wakers.forEach((w) => w());
  child.stdout?.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    wake();
  });
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  child.on('exit', (c) => {
    code = c;
    wake();
  });
  t.teardown(() => {
    if (code === undefined) child.kill('SIGKILL');
  });
  const until = (cond: () => boolean, ms: number) =>
    new Promise<boolean>((resolve) => {
      const check = () => {
        if (!cond()) return;
        wakers.delete(check);
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        wakers.delete(check);
        resolve(cond());
      }, ms);
      wakers.add(check);
      check();
    });
  return {
    child,
    lines,
    stderr: () => err,
    waitLines: (pred, n, ms) => until(() => lines.filter(pred).length >= n, ms),
    exit: async (ms) => ((await until(() => code !== undefined, ms)) ? (code as number | null) : 'running'),
  };
}

const isStats = (l: string) => l.startsWith('{"type":"stats"');
const isOom = (l: string) => l.startsWith('{"type":"oom"');

if (requireRoot(t)) {
  t.test('--stats: one event with the numbers of the cgroup files', async (t) => {
    const e = env(t);
    const bundle = e.bundle((c: Config) => {
      c.process.args = ['sleep', '1000'];
      c.linux.resources = { ...c.linux.resources, memory: { limit: 64 * MiB }, pids: { limit: 100 } };
    });
    const id = uniqueId('evstats');
    t.equal(e.tsrun(['create', '--bundle', bundle, id]).status, 0);
    const created = e.tsrun(['events', '--stats', id]);
    t.equal(created.status, 0, 'a created container has stats too (as runc)');
    t.equal(e.tsrun(['start', id]).status, 0);
    const pid = pidOf(e, id);
    const file = (c: string, f: string) => cgroupFile(pid, c, f);

    const cpuBefore = BigInt(file('cpuacct', 'cpuacct.usage'));
    const memBefore = Number(file('memory', 'memory.usage_in_bytes'));
    const r = e.tsrun(['events', '--stats', id]);
    const cpuAfter = BigInt(file('cpuacct', 'cpuacct.usage'));
    const memAfter = Number(file('memory', 'memory.usage_in_bytes'));
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout.split('\n').length, 2, 'one line, newline-terminated');
    const ev = JSON.parse(r.stdout);
    t.same(Object.keys(ev), ['type', 'id', 'data']);
    t.equal(ev.type, 'stats');
    t.equal(ev.id, id);
    t.same(Object.keys(ev.data), ['cpu', 'cpuset', 'memory', 'pids', 'blkio', 'hugetlb', 'intel_rdt', 'network_interfaces'], "runc's types.Stats, in its order");

    t.equal(ev.data.memory.usage.limit, 64 * MiB, 'memory.limit_in_bytes exactly');
    t.equal(String(ev.data.memory.usage.limit), file('memory', 'memory.limit_in_bytes'));
    const usage = ev.data.memory.usage.usage;
    t.ok(usage >= Math.min(memBefore, memAfter) - MiB && usage <= Math.max(memBefore, memAfter) + MiB, `memory.usage_in_bytes ${usage} between ${memBefore} and ${memAfter} (1 MiB either side)`);
    t.ok(usage > 0);
    // v1's "no limit" (2^63-4096) printed exactly, as the file has it, not as a rounded double.
    const memsw = file('memory', 'memory.memsw.limit_in_bytes');
    t.ok(r.stdout.includes(`"swap":{"limit":${memsw},`), `memory.memsw.limit_in_bytes ${memsw} verbatim`);
    t.equal(ev.data.pids.current, Number(file('pids', 'pids.current')), 'pids.current');
    t.equal(ev.data.pids.current, 1);
    t.equal(ev.data.pids.limit, 100, 'pids.max');
    const total = BigInt(r.stdout.match(/"total":(\d+)/)![1]);
    t.ok(cpuBefore <= total && total <= cpuAfter, `cpuacct.usage ${total} between the reads before (${cpuBefore}) and after (${cpuAfter})`);
    t.equal(ev.data.cpu.usage.percpu.length, file('cpuacct', 'cpuacct.usage_percpu').split(/\s+/).length, 'one percpu entry per cpu');
    t.equal(ev.data.cpuset.cpus.length, ev.data.cpu.usage.percpu.length, 'cpuset.cpus: every cpu of this host');
    t.ok(JSON.stringify(ev.data.memory.raw).includes(`"hierarchical_memory_limit":${64 * MiB}`), 'raw: memory.stat');

    const again = JSON.parse(e.tsrun(['events', '--stats', id]).stdout);
    t.ok(BigInt(again.data.cpu.usage.total) >= total, 'cpu usage does not go back');
  });

  t.test('--interval 200ms: a stats line every interval, until the container is killed', async (t) => {
    const e = env(t);
    const id = uniqueId('evstream');
    t.equal(e.tsrun(['run', '-d', '--bundle', e.bundle((c: Config) => (c.process.args = ['sleep', '1000'])), id]).status, 0);
    const s = startEvents(t, e, ['--interval', '200ms', id]);
    const started = Date.now();
    t.ok(await s.waitLines(isStats, 4, 10_000), 'four stats lines');
    const elapsed = Date.now() - started;
    t.ok(elapsed >= 600, `not faster than the interval (${elapsed} ms for 4)`);
    t.equal(await s.exit(300), 'running', 'the stream goes on while the container runs');
    const kill = e.tsrun(['kill', id, 'KILL']);
    t.equal(kill.status, 0, 'kill is not kept waiting by the stream (no lock held)');
    const killedAt = Date.now();
    t.equal(await s.exit(5000), 0, 'the stream ends with status 0 when the container stops');
    t.ok(Date.now() - killedAt < 2000, `promptly (${Date.now() - killedAt} ms)`);
    t.equal(s.stderr(), '');
    const events = s.lines.map((l) => JSON.parse(l));
    t.ok(events.every((ev) => ev.type === 'stats' && ev.id === id && ev.data.pids.current === 1), 'every line a stats event of this container');
    const totals = s.lines.map((l) => BigInt(l.match(/"total":(\d+)/)![1]));
    t.ok(totals.every((v, i) => i === 0 || v >= totals[i - 1]), 'cpu usage monotonic along the stream');
  });

  // The hog: command substitution keeps all 100 MB in the shell's memory
  // (head and tr only stream), far above the 16 MiB limit; with swap
  // limited too, the kernel has to kill. It waits for /tmp/go, which the
  // test creates once the stream runs.
  const hog = 'x=$(head -c 100000000 /dev/zero | tr "\\0" a)';
  const oomBundle = (e: Env, script: string) =>
    e.bundle((c: Config) => {
      c.process.args = ['sh', '-c', `while [ ! -e /tmp/go ]; do sleep 0.05; done; ${script}`];
      c.linux.resources = { ...c.linux.resources, memory: { limit: 16 * MiB, swap: 16 * MiB } };
      c.root.readonly = false; // for the marker the shell leaves after the hog
    });

  t.test('an OOM in the container: an "oom" event while it runs on', async (t) => {
    const e = env(t);
    const id = uniqueId('evoom');
    const bundle = oomBundle(e, `(${hog}); echo survived > /tmp/survived; sleep 1000`);
    t.equal(e.tsrun(['run', '-d', '--bundle', bundle, id]).status, 0);
    const pid = pidOf(e, id);
    const s = startEvents(t, e, ['--interval', '200ms', id]);
    t.ok(await s.waitLines(isStats, 1, 10_000), 'the stream runs (registered for OOM before its first stats)');
    t.equal(s.lines.filter(isOom).length, 0, 'no oom event before the hog starts');
    writeFileSync(join(bundle, 'rootfs', 'tmp', 'go'), '');
    t.ok(await s.waitLines(isOom, 1, 15_000), 'an oom event');
    t.same(JSON.parse(s.lines.find(isOom)!), { type: 'oom', id }, '{"type":"oom","id":...} and nothing else');
    t.ok(waitFor(() => existsSync(join(bundle, 'rootfs', 'tmp', 'survived'))), 'the subshell was killed, the init went on');
    t.match(cgroupFile(pid, 'memory', 'memory.oom_control'), /oom_kill [1-9]/, 'the kernel counted an OOM kill in the container');
    t.equal(statusOf(e, id), 'running');
    t.ok(await s.waitLines(isStats, s.lines.filter(isStats).length + 2, 5000), 'stats go on after the oom event');
    t.equal(e.tsrun(['kill', id, 'KILL']).status, 0);
    t.equal(await s.exit(5000), 0, 'the stream ends when the container is killed');
  });

  t.test('an OOM that kills the init: the "oom" event, then the end of the stream', async (t) => {
    const e = env(t);
    const id = uniqueId('evoominit');
    const bundle = oomBundle(e, hog);
    t.equal(e.tsrun(['run', '-d', '--bundle', bundle, id]).status, 0);
    const s = startEvents(t, e, ['--interval', '10s', id]);
    await new Promise((r) => setTimeout(r, 1000)); // no stats line to wait for at 10s: give it time to register
    t.equal(await s.exit(0), 'running');
    writeFileSync(join(bundle, 'rootfs', 'tmp', 'go'), '');
    t.equal(await s.exit(15_000), 0, 'the stream ends by itself: the init was killed');
    t.equal(statusOf(e, id), 'stopped');
    // The kernel notifies every task's OOM of the episode: runc prints one event per read of the eventfd.
    t.ok(s.lines.length >= 1, `${s.lines.length} oom event(s)`);
    t.same(new Set(s.lines), new Set([JSON.stringify({ type: 'oom', id })]), 'only oom events (no stats at 10s)');
  });

  t.test('--interval: a bad value refused, naming the flag', async (t) => {
    const e = env(t);
    const id = uniqueId('evbad');
    t.equal(e.tsrun(['run', '-d', '--bundle', e.bundle((c: Config) => (c.process.args = ['sleep', '1000'])), id]).status, 0);
    for (const [value, why] of [
      ['5x', /invalid value "5x" for flag --interval: parse error \(time: unknown unit "x"/],
      ['1', /invalid value "1" for flag --interval: parse error \(time: missing unit/],
      ['', /invalid value "" for flag --interval: parse error/],
      ['soon', /invalid value "soon" for flag --interval/],
      ['0', /--interval: duration interval must be greater than 0/],
      ['-1s', /--interval: duration interval must be greater than 0/],
    ] as const) {
      for (const extra of [[], ['--stats']]) {
        // --interval=VALUE: the command line reads a separate "-1s" as flags
        const r = e.tsrun(['events', ...extra, `--interval=${value}`, id]);
        t.equal(r.status, 1, `--interval ${JSON.stringify(value)} ${extra.join(' ')}: status 1`);
        t.match(r.stderr, why);
        t.equal(r.stdout, '', 'no event');
      }
    }
    t.match(e.tsrun(['events', '--interval', '5x', 'no-such-id']).stderr, /for flag --interval/, 'the flag is checked first, as runc parses it');
    t.match(e.tsrun(['events', '--interval', '0', 'no-such-id']).stderr, /does not exist/, 'then the container, then the value (runc\'s order)');
    t.equal(statusOf(e, id), 'running', 'the container untouched');
  });

  // runc dies of SIGPIPE at its first write after head has gone; tsrun
  // (which ignores SIGPIPE, as Node does) ends the stream at that write.
  t.test('a closed stdout ends the stream: events --interval 100ms | head -1', async (t) => {
    const e = env(t);
    const id = uniqueId('evpipe');
    t.equal(e.tsrun(['run', '-d', '--bundle', e.bundle((c: Config) => (c.process.args = ['sleep', '1000'])), id]).status, 0);
    const streams = () => processesMentioning([id]).filter((p) => p.where === 'cmdline' && p.what.includes(' events '));
    // A stream left behind by a failure is ended here (by its pid), not left to the container's deletion.
    t.teardown(() => {
      for (const p of streams()) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
    });
    const began = Date.now();
    const r = spawnSync('bash', ['-c', `${tsrunShell} --root ${e.root} events --interval 100ms ${id} | head -1; echo "events exit: \${PIPESTATUS[0]}" >&2`], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    const took = Date.now() - began;
    t.equal(r.signal, null, 'the pipeline ended by itself (not by the 20 s timeout)');
    t.ok(took < 5000, `within a few seconds (${took} ms)`);
    const lines = r.stdout.split('\n').filter(Boolean);
    t.equal(lines.length, 1, 'head printed one line');
    t.ok(isStats(lines[0] ?? ''), 'a stats event');
    t.match(r.stderr, /^events exit: 0$/m, 'tsrun events ended with status 0');
    t.equal(statusOf(e, id), 'running', 'while the container still runs');
    t.same(streams(), [], 'no tsrun events process left');
  });

  t.test('events on a stopped or unknown container: refused', async (t) => {
    const e = env(t);
    const id = uniqueId('evstopped');
    t.equal(e.tsrun(['create', '--bundle', e.bundle((c: Config) => (c.process.args = ['true'])), id]).status, 0);
    t.equal(e.tsrun(['start', id]).status, 0);
    t.ok(waitFor(() => statusOf(e, id) === 'stopped'), 'the container stopped');
    for (const extra of [[], ['--stats']]) {
      const r = e.tsrun(['events', ...extra, id]);
      t.equal(r.status, 1, `events ${extra.join(' ')}: status 1`);
      t.match(r.stderr, new RegExp(`container with id ${id} is not running`), "runc's message");
      t.equal(r.stdout, '');
    }
    const unknown = e.tsrun(['events', '--stats', 'no-such-id']);
    t.equal(unknown.status, 1);
    t.match(unknown.stderr, /does not exist/);
  });
}
