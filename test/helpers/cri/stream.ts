// The streaming half of CRI Exec and Attach, as the kubelet's clients use it:
// the RPC answers with a one-time URL on the runtime's streaming server, and
// the session runs over a WebSocket in the "v4.channel.k8s.io" protocol.
// Every binary message starts with its channel byte: 0 stdin, 1 stdout,
// 2 stderr, 3 the final status (a JSON metav1.Status), 4 terminal size.
// The server sends one empty message first (connected), then the output,
// then the status, then closes.
//
// Stdin has no end-of-file in v4: an empty stdin message is a no-op, and the
// server ends stdin only when the whole socket closes, which also ends the
// session before the status can arrive (v5 added a close signal for this).
// So stdin is written once and then left open: the command must finish on
// its own (read a known amount, or a terminal's ^D with tty).
//
// With tty, ask Exec for stdin too, even with nothing to send: without it,
// containerd 1.6's shim mostly loses a short command's terminal output (it
// shuts the console down at exit, racing the copy).
import WebSocket from 'ws';

const PROTOCOL = 'v4.channel.k8s.io';
const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
const RESIZE = 4;

export interface StreamOptions {
  /** Sent once the session opens; stdin then stays open (see above). */
  stdin?: string | Buffer;
  /** The request had tty: the terminal's size is sent first, as a client does. */
  tty?: boolean;
  /** That size (default 80x24); implies tty. */
  size?: { width: number; height: number };
  /** Milliseconds for the whole session (default 60 s). */
  timeoutMs?: number;
}

/** The final status on channel 3, as the streaming server writes it. */
export interface StreamStatus {
  status?: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { causes?: { reason?: string; message?: string }[] };
}

export interface StreamResult {
  stdout: string;
  stderr: string;
  status: StreamStatus | undefined;
}

export interface ExecResult extends StreamResult {
  exitCode: number;
}

/** Runs one session at `url` to its end: the output and the final status. */
function session(url: string, opts: StreamOptions): Promise<StreamResult> {
  return new Promise((resolve, reject) => {
    const out: Buffer[][] = [[], [], [], []];
    const text = (ch: number) => Buffer.concat(out[ch]).toString('utf8');
    const ws = new WebSocket(url, [PROTOCOL]);
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        ws.terminate();
        reject(err);
        return;
      }
      const raw = text(STATUS);
      try {
        resolve({ stdout: text(STDOUT), stderr: text(STDERR), status: raw ? (JSON.parse(raw) as StreamStatus) : undefined });
      } catch {
        reject(new Error(`stream session at ${url}: a status that is not JSON: ${raw}`));
      }
    };
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const timer = setTimeout(
      () => finish(new Error(`stream session timed out after ${timeoutMs} ms; stdout ${JSON.stringify(text(STDOUT))}, stderr ${JSON.stringify(text(STDERR))}`)),
      timeoutMs,
    );

    const send = (channel: number, data: Buffer) => ws.send(Buffer.concat([Buffer.from([channel]), data]));
    ws.on('open', () => {
      if (ws.protocol !== PROTOCOL) return finish(new Error(`streaming server chose protocol '${ws.protocol}', not ${PROTOCOL}`));
      if (opts.tty || opts.size) {
        const { width, height } = opts.size ?? { width: 80, height: 24 };
        send(RESIZE, Buffer.from(JSON.stringify({ Width: width, Height: height })));
      }
      if (opts.stdin !== undefined && opts.stdin.length > 0) send(STDIN, Buffer.from(opts.stdin));
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary || data.length === 0) return;
      const channel = data[0];
      if (channel >= STDOUT && channel <= STATUS) out[channel].push(data.subarray(1));
    });
    ws.on('error', (err) => finish(new Error(`stream session at ${url}: ${err.message}`)));
    ws.on('close', () => finish());
  });
}

/** Fails unless the session ended with a status; `what` names it in the error. */
function requireStatus(what: string, r: StreamResult): StreamStatus {
  if (!r.status) throw new Error(`${what}: the session closed without a status; stdout ${JSON.stringify(r.stdout)}, stderr ${JSON.stringify(r.stderr)}`);
  return r.status;
}

/**
 * Runs an exec session (the URL from the Exec RPC) to the command's exit:
 * its output and exit code. A failure that is not an exit code (the command
 * could not be started, say) rejects with the runtime's message.
 */
export async function streamExec(url: string, opts: StreamOptions = {}): Promise<ExecResult> {
  const r = await session(url, opts);
  const status = requireStatus('exec', r);
  if (status.status === 'Success') return { ...r, exitCode: 0 };
  const code = status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message;
  if (status.reason === 'NonZeroExitCode' && code !== undefined) return { ...r, exitCode: Number(code) };
  throw new Error(`exec failed: ${status.message ?? JSON.stringify(status)}`);
}

/**
 * Runs an attach session (the URL from the Attach RPC) until the container's
 * output ends: what it wrote meanwhile. Its exit code is ContainerStatus's.
 */
export async function streamAttach(url: string, opts: StreamOptions = {}): Promise<StreamResult> {
  const r = await session(url, opts);
  const status = requireStatus('attach', r);
  if (status.status !== 'Success') throw new Error(`attach failed: ${status.message ?? JSON.stringify(status)}`);
  return r;
}
