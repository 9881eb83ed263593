// ps on real containers, as runc's ps.go: --format json is the array of the
// pids in the container's cgroups; table is the host's ps(1) cut down to its
// header and the lines whose PID column holds one of them; ps arguments
// follow the id. A stopped container has no processes, which is no error.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { defaultCgroupsPath } from '../../src/cgroups/host';
import { filterTable } from '../../src/container/ps';
import { env, hostHierarchies, requireRoot, tsrunCmd, uniqueId } from '../helpers/tsrun';
import { sleepMs } from '../helpers/wait';

type Config = Record<string, any>;

const ppidOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
};

/** The PID column of a ps table (header first). */
function pidColumn(table: string): number[] {
  const [header, ...lines] = table.trim().split('\n');
  const at = header.trim().split(/\s+/).indexOf('PID');
  return lines.map((l) => Number(l.trim().split(/\s+/)[at]));
}

t.test('filterTable: the PID column found in the header, as runc', async (t) => {
  const out = '  PID TTY  CMD\n  10 ?  a b\n  11 ?  c\n 110 ?  d\n';
  t.equal(filterTable(out, new Set([11, 110]), []), '  PID TTY  CMD\n  11 ?  c\n 110 ?  d\n', 'whole pids only');
  t.equal(filterTable('UID PID\n', new Set([1]), []), 'UID PID\n', 'no process: the header alone');
  t.throws(() => filterTable('COMMAND\nsleep\n', new Set([1]), ['-o', 'comm']), /couldn't find PID field in ps output \(ps -o comm/);
  // runc fails where a column before PID holds spaces; the number under the header's PID is read instead.
  const spaced = 'COMMAND           PID\nnpm exec tap    19236\nsleep              12\n';
  t.equal(filterTable(spaced, new Set([19236, 12]), ['-o', 'comm,pid']), spaced, 'a command name with spaces before PID');
  t.equal(filterTable(spaced, new Set([12]), ['-o', 'comm,pid']), 'COMMAND           PID\nsleep              12\n');
  t.throws(() => filterTable('CMD PID\na b 7\n', new Set([7]), ['-o', 'comm,pid']), /unable to parse pid "b"/, 'nothing under the PID header either: an error');
});

if (requireRoot(t)) {
  t.test('json: the pids of the container; table: only their lines', async (t) => {
    const e = env(t);
    const bundle = e.bundle((c: Config) => (c.process.args = ['sh', '-c', 'sleep 1000 & exec sleep 1000']));
    const id = uniqueId('ps');
    t.equal(e.tsrun(['create', '--bundle', bundle, id]).status, 0);
    const init = JSON.parse(e.tsrun(['state', id]).stdout).pid;
    const created = e.tsrun(['ps', '--format', 'json', id]);
    t.equal(created.status, 0, created.stderr);
    t.same(JSON.parse(created.stdout), [init], 'created: the init alone');

    t.equal(e.tsrun(['start', id]).status, 0);
    const memory = hostHierarchies().find((h) => h.controllers === 'memory')!;
    const procs = () => readFileSync(join(memory.mountpoint, memory.own, defaultCgroupsPath(e.root, id), 'cgroup.procs'), 'utf8').trim().split('\n').map(Number);
    for (let i = 0; i < 300 && procs().length < 2; i++) sleepMs(10);
    const json = e.tsrun(['ps', '-f', 'json', id]);
    t.equal(json.status, 0, json.stderr);
    t.match(json.stdout, /^\[[\d,]+\]\n$/, 'one JSON array of numbers');
    const pids: number[] = JSON.parse(json.stdout);
    t.equal(pids.length, 2, 'two processes');
    t.ok(pids.includes(init), 'the init');
    const child = pids.find((p) => p !== init)!;
    t.equal(ppidOf(child), init, 'and the child it started');
    t.same([...pids].sort(), [...procs()].sort(), "the same as the cgroup's cgroup.procs");

    // Run directly to know tsrun's own pid (env execs it, so the pid stays).
    const r = spawnSync(tsrunCmd[0], [...tsrunCmd.slice(1), '--root', e.root, 'ps', id], { encoding: 'utf8' });
    t.equal(r.status, 0, r.stderr);
    const [header] = r.stdout.split('\n');
    t.match(header, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/, 'the header of ps -ef');
    t.same(pidColumn(r.stdout).sort(), [...pids].sort(), 'a line for each of its processes and nothing else');
    t.notOk(pidColumn(r.stdout).includes(r.pid!), "not tsrun's own");
    t.notOk(pidColumn(r.stdout).includes(process.pid), "nor this test's");
    t.match(r.stdout, /sleep 1000/);

    const o = e.tsrun(['ps', id, '-o', 'pid,comm']);
    t.equal(o.status, 0, o.stderr);
    t.match(o.stdout, /^\s*PID COMMAND\n/, 'ps arguments after the id');
    t.same(pidColumn(o.stdout).sort(), [...pids].sort());
    t.same(o.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/)[1]), ['sleep', 'sleep']);
    const sep = e.tsrun(['ps', id, '--', '-o', 'comm,pid']);
    t.equal(sep.status, 0, `after an explicit --: ${sep.stderr}`);
    t.same(pidColumn(sep.stdout).sort(), [...pids].sort(), 'PID need not come first');

    const noPid = e.tsrun(['ps', id, '-o', 'comm']);
    t.equal(noPid.status, 1, '-o without pid fails, as runc');
    t.match(noPid.stderr, "couldn't find PID field in ps output");
    t.equal(noPid.stdout, '', 'printing nothing');
    const bad = e.tsrun(['ps', id, '--no-such-option']);
    t.equal(bad.status, 1, 'ps itself failing fails');
    t.match(bad.stderr, /ps --no-such-option: exit status \d+/);

    t.equal(e.tsrun(['pause', id]).status, 0);
    t.same(JSON.parse(e.tsrun(['ps', '-f', 'json', id]).stdout).sort(), [...pids].sort(), 'a paused container is listed too');
    t.equal(e.tsrun(['resume', id]).status, 0);
  });

  t.test('a stopped container: no processes, as runc (the header alone, [])', async (t) => {
    const e = env(t);
    const bundle = e.bundle((c: Config) => (c.process.args = ['sh', '-c', 'sleep 1000 & exec sleep 1000']));
    const id = uniqueId('psstop');
    t.equal(e.tsrun(['run', '--detach', '--bundle', bundle, id]).status, 0);
    t.equal(e.tsrun(['kill', '--all', id, 'KILL']).status, 0);
    for (let i = 0; i < 300 && JSON.parse(e.tsrun(['ps', '-f', 'json', id]).stdout).length > 0; i++) sleepMs(10);
    t.equal(JSON.parse(e.tsrun(['state', id]).stdout).status, 'stopped');
    const json = e.tsrun(['ps', '-f', 'json', id]);
    t.equal(json.status, 0, json.stderr);
    t.equal(json.stdout, '[]\n');
    const table = e.tsrun(['ps', id]);
    t.equal(table.status, 0, table.stderr);
    t.match(table.stdout, /^UID\s+PID.*CMD\n$/, 'the header alone');
    t.equal(e.tsrun(['delete', id]).status, 0);

    const gone = e.tsrun(['ps', id]);
    t.equal(gone.status, 1, 'ps of a container that does not exist fails');
    t.match(gone.stderr, `container does not exist: ${id}`);
  });
}
