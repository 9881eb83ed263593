// tsrun writes its own output with synchronous writes on the raw fds. Going
// through process.stdout would let libuv switch the file description to
// O_NONBLOCK, and that description is shared with the container's stdio.
import { writeSync } from 'node:fs';

function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text);
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      if ((err as NodeJS.ErrnoException).code === 'EPIPE') return;
      throw err;
    }
  }
}

export const stdout = (text: string): void => writeAll(1, text);
export const stderr = (text: string): void => writeAll(2, text);
