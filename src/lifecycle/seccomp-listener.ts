// The seccomp notify listener, handed to the agent at listenerPath
// (config-linux.md "Seccomp", "The Container Process State"): one
// connection, one message: the container process state as JSON with the
// listener's fd as SCM_RIGHTS on its first bytes, then the connection is
// closed. A failure fails the create or exec, as the spec asks.
import { closeSync } from 'node:fs';
import { TsrunError, messageOf } from '../errors';
import { native } from '../native/addon';
import type { SeccompListener } from '../plan/seccomp';
import { specVersion } from '../spec/version';

const SEND_TIMEOUT_MS = 10_000;

/**
 * `pid`: the process the filter is for, as tsrun sees it; `state`: the
 * container's state (runtime.md "State") as a JSON text.
 */
export function sendSeccompListener(listener: SeccompListener, fd: number, pid: number, state: string): void {
  const message = {
    ociVersion: specVersion,
    fds: ['seccompFd'],
    pid,
    ...(listener.metadata !== undefined && { metadata: listener.metadata }),
    state: JSON.parse(state) as unknown,
  };
  let sock: number | undefined;
  try {
    // An agent that never accepts, or never reads, fails the create rather
    // than hold it for ever.
    sock = native().connectUnix(listener.path, SEND_TIMEOUT_MS);
    native().sendFdWithPayload(sock, fd, Buffer.from(JSON.stringify(message)));
  } catch (err) {
    throw new TsrunError(`cannot send the seccomp listener to ${listener.path}: ${messageOf(err)}`, 'linux.seccomp.listenerPath');
  } finally {
    if (sock !== undefined) closeSync(sock);
  }
}
