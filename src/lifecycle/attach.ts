// Staying with a process until it exits, for run and exec without
// --detach: the signals tsrun gets are passed on to it, a terminal of its
// own is proxied to ours, and the result is its exit status (128+n when
// killed by signal n), as runc's.
import { ReadStream, WriteStream } from 'node:tty';
import { constants } from 'node:os';
import { native } from '../native/addon';

// Forwarded to the process as runc does; SIGCHLD and the stop signals are ours.
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

/** Waits for pid (a child of ours, or reparented to us as subreaper) and returns its exit status. */
export async function attach(pid: number, master: number | undefined): Promise<number> {
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
  return status.signal !== undefined ? 128 + status.signal : (status.code ?? 0);
}
