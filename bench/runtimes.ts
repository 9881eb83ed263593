// The runtimes compared, and the bundles they all run.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { exec, must } from './measure';

const repo = join(__dirname, '..', '..');
export const tsrunBin = join(repo, 'bin', 'tsrun');
const crunWrapper = join(repo, 'conformance', 'runtimes', 'crun-hybrid.sh');

export interface Runtime {
  name: string;
  /** The command line up to the command: binary and --root. */
  argv: string[];
  /** What runs around the runtime itself (crun's wrapper on a hybrid host), timed on its own to be subtracted. */
  wrapper?: string[];
}

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export function isHybrid(): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').includes(' /sys/fs/cgroup/unified ');
}

/** tsrun, or another build of it (tsrun@<checkout>: a before and after in one run). */
export const isTsrun = (rt: Runtime): boolean => rt.name === 'tsrun' || rt.name.startsWith('tsrun@');

export function runtimes(wanted: string[], stateRoot: string): Runtime[] {
  const out: Runtime[] = [];
  for (const name of wanted) {
    if (name === 'tsrun') {
      out.push({ name, argv: [tsrunBin, '--root', join(stateRoot, name)] });
      continue;
    }
    if (name.startsWith('tsrun@')) {
      // Another checkout, built (npm ci): named after its directory.
      const checkout = name.slice('tsrun@'.length);
      const label = `tsrun@${basename(checkout)}`;
      const bin = join(checkout, 'bin', 'tsrun');
      if (!existsSync(bin)) throw new Error(`${name}: no ${bin} (build that checkout first)`);
      if (out.some((rt) => rt.name === label)) throw new Error(`${name}: a second runtime named ${label}`);
      out.push({ name: label, argv: [bin, '--root', join(stateRoot, label)] });
      continue;
    }
    const root = join(stateRoot, name);
    const bin = which(name);
    if (!bin) {
      console.log(`# ${name} not found, left out (apt-get install ${name})`);
      continue;
    }
    // crun 1.8 refuses a hybrid host; its wrapper (a private mount
    // namespace without the empty cgroup2) costs a few exec()s per call.
    const wrapper = name === 'crun' && isHybrid() ? ['sh', crunWrapper] : undefined;
    out.push({ name, argv: [...(wrapper ?? []), bin, '--root', root], wrapper });
  }
  return out;
}

/** A busybox bundle running args, with the same config for every runtime. */
export function makeBundle(dir: string, args: string[], mutate?: (config: Record<string, any>) => void): string {
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
  config.ociVersion = '1.0.2'; // crun 1.8 knows no later version
  mutate?.(config);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

/** Deletes every container of the runtime; returns the ids there were. */
export function deleteAll(rt: Runtime): string[] {
  const ids = exec([...rt.argv, 'list', '-q']).stdout.split('\n').filter(Boolean);
  for (const id of ids) exec([...rt.argv, 'delete', '--force', id]);
  return ids;
}

/** What a run left behind: containers the runtime lists, and cgroup directories named after the run's ids. */
export function leftovers(rts: Runtime[], idPrefix: string): string[] {
  const found: string[] = [];
  for (const rt of rts) {
    for (const id of exec([...rt.argv, 'list', '-q']).stdout.split('\n').filter(Boolean)) found.push(`${rt.name} container ${id}`);
  }
  const walk = (dir: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      if (e.name.startsWith(idPrefix)) found.push(`cgroup ${join(dir, e.name)}`);
      else if (depth < 4) walk(join(dir, e.name), depth + 1);
    }
  };
  walk('/sys/fs/cgroup', 0);
  return found;
}
