// Typed access to the N-API addon (addon/native/binding.cc) and the path of
// the tsrun-init executable. See addon/README.md for what each call does.
import { join } from 'node:path';
import { nativeBuildDir } from '../paths';

export interface WaitStatus {
  pid: number;
  code?: number;
  signal?: number;
}

/** A seccomp compile under way in the addon (opaque). */
export type SeccompJob = { readonly __seccompJob: unique symbol };

export interface Native {
  openHelper(path: string): number;
  /** joinsCgroups: argv names cgroups tsrun-init joins first; the pid is the one that goes on (maybe a clone), and a cgroup it cannot join is an error with errno and cgroupIndex. */
  spawnInit(exeFd: number, argv: string[], keepFds: number[], joinsCgroups?: boolean): number;
  socketpair(): [number, number];
  mkfifo(path: string, mode: number): void;
  flock(fd: number, exclusive: boolean, wait: boolean): boolean;
  /** Whether path names the file open at fd (same device and inode); false when path cannot be looked up. */
  sameFile(fd: number, path: string): boolean;
  /** With sendTimeoutMs, connect and sends give up (EAGAIN) rather than wait on a peer for ever. */
  connectUnix(path: string, sendTimeoutMs?: number): number;
  recvFd(socket: number): number;
  /** All of payload on a connected stream socket, fd (SCM_RIGHTS) with its first part. */
  sendFdWithPayload(socket: number, fd: number, payload: Buffer): void;
  setWinsize(fd: number, rows: number, cols: number): void;
  pidfdOpen(pid: number): number;
  pidfdSendSignal(pidfd: number, signal: number): void;
  setChildSubreaper(): void;
  waitPid(pid: number, noHang: boolean): WaitStatus;
  waitPidAsync(pid: number): Promise<WaitStatus>;
  /** Starts a compile on a thread of its own (see addon/native/compile_seccomp.cc). */
  startSeccompCompile(filter: {
    defaultAction: number;
    architectures: string[];
    rules: { syscall: string; action: number; args: { index: number; op: number; value: bigint; valueTwo: bigint }[] }[];
  }): SeccompJob;
  /** Waits for the compile to end: the program, and the syscall names libseccomp does not know. */
  seccompCompiled(job: SeccompJob): { bpf: Buffer; unknown: string[] };
  /** What besides the rules decides a compile's program (libseccomp's version, the addon's use of it, the kernel); "" if the library cannot say. */
  seccompCompilerId(): string;
  /** FNV-1a (64 bits) of the text's UTF-8, in 16 hex digits. */
  hash64(text: string): string;
  attachDeviceProgram(cgroupDir: string, program: Buffer): void;
  /** A blocking, close-on-exec eventfd(2). */
  eventfd(initval?: number): number;
  /**
   * Moves host network device `name` into the network namespace open at
   * nsFd as `newName` (one "%d" allowed), with its permanent global
   * addresses, and sets it up. Returns its name in the namespace.
   */
  moveNetDevice(nsFd: number, name: string, newName: string): string;
}

let loaded: Native | undefined;

export function native(): Native {
  if (!loaded) {
    // process.dlopen rather than require: require's resolution of the path
    // (stats, realpath, the package scope) took about 1.3 ms of every command
    // that locks a container, more than twice the dlopen itself.
    const addon = { exports: {} as Native };
    process.dlopen(addon, join(nativeBuildDir, 'tsrun_native.node'));
    loaded = addon.exports;
  }
  return loaded;
}

export const initHelperPath = join(nativeBuildDir, 'tsrun-init');
