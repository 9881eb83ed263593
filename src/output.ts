// tsrun writes its own output with synchronous writes on the raw fds. Going
// through process.stdout would let libuv switch the file description to
// O_NONBLOCK, and that description is shared with the container's stdio.
//
// Node ignores SIGPIPE, so a write to a pipe nobody reads any more fails
// with EPIPE instead of killing tsrun as it kills runc. The text is then
// dropped, and the writer is told (false): a one-shot command (state, list,
// ps) carries on as before; a stream (events) stops there.
import { writeSync } from 'node:fs';

/** false if the reader has gone (EPIPE). */
function writeAll(fd: number, text: string): boolean {
  const buf = Buffer.from(text);
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      if ((err as NodeJS.ErrnoException).code === 'EPIPE') return false;
      throw err;
    }
  }
  return true;
}

/** Writes text to fd 1; false if nobody reads it any more (the text is dropped). */
export const stdout = (text: string): boolean => writeAll(1, text);
export const stderr = (text: string): boolean => writeAll(2, text);
