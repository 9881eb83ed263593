// The caller's side of --console-socket in tests: a unix socket server that
// takes the pty master sent over it, and a reader of what the pty shows.
import { readSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { sleepMs } from './wait';

export const native = require(join(__dirname, '..', '..', 'build', 'Release', 'tsrun_native.node'));

/** Listens on a unix socket and resolves with the fd received over the first connection. */
export function consoleSocket(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer({ pauseOnConnect: true }, (conn) => {
      // The connection is paused: libuv has not read (and dropped) the
      // SCM_RIGHTS message; take it with recvmsg directly.
      const fd = (conn as unknown as { _handle: { fd: number } })._handle.fd;
      try {
        resolve(native.recvFd(fd));
      } catch (err) {
        reject(err);
      }
      conn.destroy();
      server.close();
    });
    server.listen(path);
  });
}

/** What the pty shows until `until` matches, EOF/EIO, or `ms` pass. */
export function readAll(fd: number, until: RegExp, ms = 5000): string {
  let out = '';
  const buf = Buffer.alloc(4096);
  const end = Date.now() + ms;
  while (Date.now() < end && !until.test(out)) {
    try {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      out += buf.toString('utf8', 0, n);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        sleepMs(10);
        continue;
      }
      break; // EIO: the container side closed
    }
  }
  return out;
}
