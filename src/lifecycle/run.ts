// run: create, start and, unless detached, stay with the container until it
// exits: signals are passed on to it, a terminal is proxied, and the exit
// status is the container's (128+n when killed by signal n). The container
// is deleted afterwards unless --keep.
import { closeSync } from 'node:fs';
import { ReadStream, WriteStream } from 'node:tty';
import { constants } from 'node:os';
import { TsrunError } from '../errors';
import { native } from '../native/addon';
import { type CreateOptions, create } from './create';
import { deleteContainer } from './delete';
import { start } from './start';

export interface RunOptions extends CreateOptions {
  detach: boolean;
  keep: boolean;
}

// Forwarded to the container as runc does; SIGCHLD and the stop signals are ours.
const forwarded = Object.keys(constants.signals).filter(
  (s) => !['SIGKILL', 'SIGSTOP', 'SIGCHLD', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGWINCH', 'SIGBUS', 'SIGFPE', 'SIGILL', 'SIGSEGV', 'SIGPROF', 'SIGVTALRM'].includes(s),
) as NodeJS.Signals[];

function proxyTerminal(master: number): () => void {
  const out = new WriteStream(master);
  const inp = new ReadStream(master);
  const stdinIsTty = process.stdin.isTTY;
  if (stdinIsTty) process.stdin.setRawMode(true);
  process.stdin.pipe(out);
  inp.pipe(process.stdout);
  inp.on('error', () => undefined); // EIO once the container's side closes
  const resize = () => {
    if (process.stdout.isTTY) native().setWinsize(master, process.stdout.rows, process.stdout.columns);
  };
  resize();
  process.on('SIGWINCH', resize);
  return () => {
    if (stdinIsTty) process.stdin.setRawMode(false);
    process.stdin.unpipe(out);
    process.stdin.pause();
  };
}

export async function run(opts: RunOptions): Promise<number> {
  const terminalOfOurOwn = opts.consoleSocket === undefined && !opts.detach;
  let pair: [number, number] | undefined;
  if (!opts.detach) native().setChildSubreaper();
  let created;
  try {
    if (terminalOfOurOwn) pair = native().socketpair();
    created = create({ ...opts, consoleSocketFd: pair?.[1] });
  } catch (err) {
    // A detached run with a terminal needs somewhere to send it.
    if (opts.detach && err instanceof TsrunError && err.field === 'process.terminal' && opts.consoleSocket === undefined) {
      throw new TsrunError('cannot allocate a terminal for a detached container without --console-socket', 'process.terminal');
    }
    throw err;
  } finally {
    if (pair) closeSync(pair[1]);
  }
  let master: number | undefined;
  if (pair && created.terminal) {
    master = native().recvFd(pair[0]);
  }
  if (pair) closeSync(pair[0]);
  try {
    start(opts.root, opts.id);
  } catch (err) {
    deleteContainer(opts.root, opts.id, true);
    throw err;
  }
  if (opts.detach) return 0;

  const pid = created.pid;
  const handlers = forwarded.map((sig) => {
    const h = () => {
      try {
        process.kill(pid, sig);
      } catch {
        // exited meanwhile
      }
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  const stopProxy = master !== undefined ? proxyTerminal(master) : undefined;
  const status = await native().waitPidAsync(pid);
  for (const [sig, h] of handlers) process.off(sig, h);
  stopProxy?.();
  if (!opts.keep) deleteContainer(opts.root, opts.id, true);
  return status.signal !== undefined ? 128 + status.signal : (status.code ?? 0);
}
