// `npm run bench`: tsrun against runc and crun, in one run, alternating
// between them each round so that load changes hit all three alike.
// Prints medians and ratios; this is a measurement, not a test.
//
//   - the create/start/delete cycle and `run` of `true`, per runtime;
//   - tsrun's per-command overhead above a bare `node -e 0`;
//   - the PSS of a created (waiting) container's init, per runtime.
//
// Usage (as root): npm run bench -- [--rounds N] [--runtimes tsrun,runc,crun]
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = join(__dirname, '..', '..');
const tsrunBin = join(repo, 'bin', 'tsrun');
const crunWrapper = join(repo, 'conformance', 'runtimes', 'crun-hybrid.sh');

// Clients such as containerd do not set NODE_EXTRA_CA_CERTS, which costs
// every node start tens of milliseconds; measure without it.
const childEnv = { ...process.env };
delete childEnv.NODE_EXTRA_CA_CERTS;
delete childEnv.NODE_OPTIONS;

interface Runtime {
  name: string;
  argv: string[];
}

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function isHybrid(): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').includes(' /sys/fs/cgroup/unified ');
}

function runtimes(wanted: string[], root: string): Runtime[] {
  const out: Runtime[] = [];
  for (const name of wanted) {
    if (name === 'tsrun') out.push({ name, argv: [tsrunBin, '--root', join(root, 'tsrun')] });
    const bin = name === 'tsrun' ? undefined : which(name);
    if (name !== 'tsrun' && !bin) {
      console.log(`# ${name} not found, skipped (apt-get install ${name})`);
      continue;
    }
    if (name === 'runc') out.push({ name, argv: [bin!, '--root', join(root, 'runc')] });
    if (name === 'crun') out.push({ name, argv: [...(isHybrid() ? ['sh', crunWrapper] : []), bin!, '--root', join(root, 'crun')] });
  }
  return out;
}

// Output goes to files: a created container keeps the stdio it was given,
// and a pipe would not reach end-of-file until the container exits.
let outputDir = tmpdir();

function exec(argv: string[]): { ms: number; status: number | null; stdout: string; stderr: string } {
  const out = join(outputDir, 'stdout');
  const err = join(outputDir, 'stderr');
  const fds = [openSync(out, 'w'), openSync(err, 'w')];
  const start = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { env: childEnv, stdio: ['ignore', fds[0], fds[1]] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  fds.forEach((fd) => closeSync(fd));
  return { ms, status: r.status, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
}

function must(argv: string[]): number {
  const r = exec(argv);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.ms;
}

function makeBundle(dir: string, args: string[]): string {
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  for (const d of ['proc', 'sys', 'dev', 'tmp', 'etc']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
  for (const a of ['sh', 'true', 'sleep']) symlinkSync('busybox', join(rootfs, 'bin', a));
  must([tsrunBin, 'spec', '--bundle', dir]);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  config.process.terminal = false;
  config.process.args = args;
  config.ociVersion = '1.0.2'; // crun 1.8 knows no later version; the same config for all three

  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function pss(pid: number): number {
  const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

function main(): void {
  if (process.getuid?.() !== 0) throw new Error('the benchmark runs containers: run it as root');
  if (!existsSync('/bin/busybox')) throw new Error('needs /bin/busybox (apt-get install busybox-static)');
  const argv = process.argv.slice(2);
  const opt = (name: string, def: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : def;
  };
  const rounds = Number(opt('rounds', '20'));
  const work = mkdtempSync(join(tmpdir(), 'tsrun-bench-'));
  chmodSync(work, 0o755);
  outputDir = work;
  try {
    const rts = runtimes(opt('runtimes', 'tsrun,runc,crun').split(','), join(work, 'state'));
    const trueBundle = makeBundle(join(work, 'true'), ['true']);
    const sleepBundle = makeBundle(join(work, 'sleep'), ['sleep', '1000']);
    const cycle = new Map<string, number[]>();
    const run = new Map<string, number[]>();
    const memory = new Map<string, number[]>();
    for (const rt of rts) {
      cycle.set(rt.name, []);
      run.set(rt.name, []);
      memory.set(rt.name, []);
    }
    const overhead = { node: [] as number[], version: [] as number[], state: [] as number[] };

    // One warm-up round, not counted.
    for (let round = -1; round < rounds; round++) {
      for (const rt of rts) {
        const id = `bench-${process.pid}-${round + 1}`;
        const t0 = process.hrtime.bigint();
        must([...rt.argv, 'create', '--bundle', trueBundle, id]);
        must([...rt.argv, 'start', id]);
        must([...rt.argv, 'delete', '--force', id]);
        const cycleMs = Number(process.hrtime.bigint() - t0) / 1e6;
        const runMs = must([...rt.argv, 'run', '--bundle', trueBundle, `${id}-run`]);
        if (round >= 0) {
          cycle.get(rt.name)!.push(cycleMs);
          run.get(rt.name)!.push(runMs);
        }
        if (round >= 0 && round < 5) {
          must([...rt.argv, 'create', '--bundle', sleepBundle, `${id}-mem`]);
          const pid = JSON.parse(exec([...rt.argv, 'state', `${id}-mem`]).stdout).pid;
          memory.get(rt.name)!.push(pss(pid));
          if (rt.name === 'tsrun' && round >= 0) {
            overhead.node.push(must(['node', '-e', '0']));
            overhead.version.push(must([...rt.argv, '--version']));
            overhead.state.push(must([...rt.argv, 'state', `${id}-mem`]));
          }
          must([...rt.argv, 'delete', '--force', `${id}-mem`]);
        }
      }
    }

    const fmt = (x: number) => x.toFixed(1).padStart(8);
    const ratio = (a: number, b: number) => (b ? (a / b).toFixed(2) : '-').padStart(8);
    const names = rts.map((r) => r.name);
    const others = names.filter((n) => n !== 'tsrun');
    console.log(`\n${rounds} rounds, medians; ratios are tsrun / other (below 1: tsrun is faster or smaller)\n`);
    console.log(''.padEnd(26) + [...names.map((n) => n.padStart(8)), ...others.map((o) => `vs ${o}`.padStart(8))].join(''));
    const row = (label: string, data: Map<string, number[]>, unit: string) => {
      const m = new Map(names.map((n) => [n, median(data.get(n)!)]));
      const line = names.map((n) => fmt(m.get(n)!)).join('') + (m.has('tsrun') ? others.map((o) => ratio(m.get('tsrun')!, m.get(o)!)).join('') : '');
      console.log(`${`${label} (${unit})`.padEnd(26)}${line}`);
    };
    row('create+start+delete', cycle, 'ms');
    row('run true', run, 'ms');
    row('waiting init PSS', memory, 'kB');
    if (overhead.node.length) {
      const node = median(overhead.node);
      console.log(`\ntsrun per-command overhead above \`node -e 0\` (${fmt(node).trim()} ms):`);
      console.log(`  tsrun --version  ${fmt(median(overhead.version) - node).trim()} ms  (x${(median(overhead.version) / node).toFixed(2)} of node -e 0)`);
      console.log(`  tsrun state      ${fmt(median(overhead.state) - node).trim()} ms  (x${(median(overhead.state) / node).toFixed(2)} of node -e 0)`);
    }
  } finally {
    for (const rt of runtimes(['tsrun', 'runc', 'crun'], join(work, 'state'))) {
      const list = exec([...rt.argv, 'list', '-q']);
      for (const id of list.stdout.split('\n').filter(Boolean)) exec([...rt.argv, 'delete', '--force', id]);
    }
    rmSync(work, { recursive: true, force: true });
  }
}

main();
