// run: create, start and, unless detached, stay with the container until it
// exits: signals are passed on to it, a terminal is proxied, and the exit
// status is the container's (128+n when killed by signal n). The container
// is deleted afterwards unless --keep.
import { closeSync } from 'node:fs';
import { TsrunError } from '../errors';
import { native } from '../native/addon';
import { attach } from './attach';
import { type CreateOptions, create } from './create';
import { deleteContainer } from './delete';
import { start } from './start';

export interface RunOptions extends CreateOptions {
  detach: boolean;
  keep: boolean;
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

  const code = await attach(created.pid, master);
  if (!opts.keep) deleteContainer(opts.root, opts.id, true);
  return code;
}
