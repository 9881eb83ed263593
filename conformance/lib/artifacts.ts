// Builds, at run time and outside the repository, what the cases need:
// the static probe, the console receiver, and a rootfs template
// (busybox-static + probe). Results are cached by content hash.
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { which } from './host';

export interface Artifacts {
  probe: string;
  recvtty: string;
  /** Answers seccomp notifications (probe/seccomp-agent.c). */
  seccompAgent: string;
  rootfsTemplate: string;
  busybox: string;
  cacheDir: string;
}

/** The directory holding probe.c etc., next to the sources or the compiled js. */
export function probeSourceDir(): string {
  const candidates = [
    path.resolve(__dirname, '..', 'probe'),
    path.resolve(__dirname, '..', '..', '..', 'conformance', 'probe'),
  ];
  for (const c of candidates) if (fs.existsSync(path.join(c, 'probe.c'))) return c;
  throw new Error(`probe sources not found (looked in ${candidates.join(', ')})`);
}

/** True when an ELF file has no PT_INTERP program header (statically linked). */
export function isStaticElf(buf: Buffer): boolean {
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) return false;
  const is64 = buf[4] === 2;
  const le = buf[5] === 1;
  const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const u64 = (o: number) => Number(le ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o));
  const phoff = is64 ? u64(32) : u32(28);
  const phentsize = u16(is64 ? 54 : 42);
  const phnum = u16(is64 ? 56 : 44);
  for (let i = 0; i < phnum; i++) {
    const off = phoff + i * phentsize;
    if (off + 4 > buf.length) break;
    if (u32(off) === 3 /* PT_INTERP */) return false;
  }
  return true;
}

function sha(...parts: (string | Buffer)[]): string {
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex').slice(0, 16);
}

export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir() || os.tmpdir(), '.cache');
  return path.join(base, 'tsrun-conformance');
}

function compile(src: string, out: string, isStatic: boolean): void {
  const gcc = which('gcc') ?? which('cc');
  if (!gcc) throw new Error('gcc not found: the probe is built with gcc -static (apt-get install gcc libc6-dev)');
  const tmp = `${out}.tmp-${process.pid}`;
  const args = ['-O2', '-Wall', ...(isStatic ? ['-static'] : []), '-o', tmp, src];
  const r = spawnSync(gcc, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building ${path.basename(src)} failed:\n${r.stderr}`);
  fs.renameSync(tmp, out);
}

const BUSYBOX_LINKS = [
  'sh', 'cat', 'echo', 'ls', 'sleep', 'true', 'false', 'id', 'env', 'mkdir', 'touch', 'rm',
  'mount', 'umount', 'ps', 'grep', 'head', 'test', 'stat', 'readlink', 'hostname', 'uname', 'kill',
];

export function buildArtifacts(cacheRoot = defaultCacheDir()): Artifacts {
  const srcDir = probeSourceDir();
  const probeSrc = fs.readFileSync(path.join(srcDir, 'probe.c'));
  const recvSrc = fs.readFileSync(path.join(srcDir, 'recvtty.c'));
  const agentSrc = fs.readFileSync(path.join(srcDir, 'seccomp-agent.c'));
  const busybox = ['/usr/bin/busybox', '/bin/busybox'].find((p) => fs.existsSync(p)) ?? which('busybox');
  if (!busybox) throw new Error('busybox not found (apt-get install busybox-static)');
  const bb = fs.readFileSync(busybox);
  if (!isStaticElf(bb)) throw new Error(`${busybox} is not statically linked (apt-get install busybox-static)`);
  const key = sha(probeSrc, recvSrc, agentSrc, bb, process.arch);
  const dir = path.join(cacheRoot, key);
  const done = path.join(dir, '.complete');
  const art: Artifacts = {
    probe: path.join(dir, 'probe'),
    recvtty: path.join(dir, 'recvtty'),
    seccompAgent: path.join(dir, 'seccomp-agent'),
    rootfsTemplate: path.join(dir, 'rootfs'),
    busybox,
    cacheDir: dir,
  };
  if (fs.existsSync(done)) return art;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  compile(path.join(srcDir, 'probe.c'), art.probe, true);
  if (!isStaticElf(fs.readFileSync(art.probe))) throw new Error('gcc -static produced a dynamic probe');
  compile(path.join(srcDir, 'recvtty.c'), art.recvtty, false);
  compile(path.join(srcDir, 'seccomp-agent.c'), art.seccompAgent, false);

  const r = art.rootfsTemplate;
  for (const d of ['bin', 'dev', 'etc', 'proc', 'sys', 'tmp', 'root', 'home', 'run', 'var', 'usr', 'usr/bin', 'mnt']) {
    fs.mkdirSync(path.join(r, d), { recursive: true, mode: 0o755 });
    fs.chmodSync(path.join(r, d), 0o755);
  }
  fs.chmodSync(path.join(r, 'tmp'), 0o1777);
  fs.copyFileSync(busybox, path.join(r, 'bin', 'busybox'));
  fs.chmodSync(path.join(r, 'bin', 'busybox'), 0o755);
  for (const l of BUSYBOX_LINKS) fs.symlinkSync('busybox', path.join(r, 'bin', l));
  fs.copyFileSync(art.probe, path.join(r, 'probe'));
  fs.chmodSync(path.join(r, 'probe'), 0o755);
  fs.writeFileSync(
    path.join(r, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
  );
  fs.writeFileSync(path.join(r, 'etc', 'group'), 'root:x:0:\ntty:x:5:\nuser:x:1000:\nnogroup:x:65534:\n');
  fs.writeFileSync(path.join(r, 'etc', 'hostname'), 'template\n');
  fs.writeFileSync(done, new Date().toISOString() + '\n');
  return art;
}

/** Copies the rootfs template (cheap: ~3 MB) so each container has its own. */
export function copyRootfs(template: string, dest: string): void {
  fs.cpSync(template, dest, { recursive: true, verbatimSymlinks: true, preserveTimestamps: false });
  // cpSync keeps modes of files but not always of directories
  for (const d of ['', 'bin', 'dev', 'etc', 'proc', 'sys', 'root', 'home', 'run', 'var', 'usr', 'usr/bin', 'mnt']) {
    try {
      fs.chmodSync(path.join(dest, d), 0o755);
    } catch {
      /* missing dir */
    }
  }
  fs.chmodSync(path.join(dest, 'tmp'), 0o1777);
}
