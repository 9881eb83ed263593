// start (runtime.md "Start"): the init, waiting in create, is released by
// one byte written into the exec fifo; the fifo's removal marks the
// container as started.
import { closeSync, constants, openSync, unlinkSync, writeSync } from 'node:fs';
import { TsrunError, errnoCode } from '../errors';
import { statusOf } from '../state/status';
import { ContainerDir } from '../state/store';

export function start(root: string, id: string): void {
  const { dir } = ContainerDir.open(root, id, 'exclusive');
  try {
    const status = statusOf(dir, dir.read());
    if (status !== 'created') throw new TsrunError(`cannot start container ${id}: it is ${status}, not created`);
    let fd: number;
    try {
      fd = openSync(dir.fifoPath, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (err) {
      if (errnoCode(err) === 'ENXIO') throw new TsrunError(`cannot start container ${id}: its init is gone`);
      throw err;
    }
    try {
      writeSync(fd, '0');
    } finally {
      closeSync(fd);
    }
    unlinkSync(dir.fifoPath);
  } finally {
    dir.unlock();
  }
}
