// The framed channel to tsrun-init over a unix socket: u32 type, u32 length,
// payload. Reads block: while a container is being created there is nothing
// else for the process to do.
import { closeSync, readSync, writeSync } from 'node:fs';

export interface Frame {
  type: number;
  payload: Buffer;
}

export class Channel {
  constructor(readonly fd: number) {}

  send(type: number, payload: Buffer = Buffer.alloc(0)): void {
    const head = Buffer.alloc(8);
    head.writeUInt32LE(type, 0);
    head.writeUInt32LE(payload.length, 4);
    const buf = Buffer.concat([head, payload]);
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off);
  }

  /** The next frame, or null when the other end has closed. */
  recv(): Frame | null {
    const head = this.readExact(8);
    if (!head) return null;
    const len = head.readUInt32LE(4);
    const payload = len ? this.readExact(len) : Buffer.alloc(0);
    if (!payload) return null;
    return { type: head.readUInt32LE(0), payload };
  }

  close(): void {
    closeSync(this.fd);
  }

  private readExact(n: number): Buffer | null {
    const buf = Buffer.alloc(n);
    let off = 0;
    while (off < n) {
      let r: number;
      try {
        r = readSync(this.fd, buf, off, n - off, null);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EINTR') continue;
        if (code === 'ECONNRESET') return null;
        throw err;
      }
      if (r === 0) return null;
      off += r;
    }
    return buf;
  }
}
