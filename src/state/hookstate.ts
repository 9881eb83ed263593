// The container state a hook reads on stdin (config.md "POSIX-platform
// Hooks": the state of runtime.md "State").
import { specVersion } from '../spec/version';

export interface StateForHooks {
  id: string;
  bundle: string;
  annotations?: Record<string, string>;
}

function withoutPid(base: StateForHooks, status: string): [Record<string, unknown>, Record<string, unknown>] {
  const tail: Record<string, unknown> = { bundle: base.bundle };
  if (base.annotations && Object.keys(base.annotations).length) tail.annotations = base.annotations;
  return [{ ociVersion: specVersion, id: base.id, status }, tail];
}

export function hookState(base: StateForHooks, status: string, pid: number): string {
  const [head, tail] = withoutPid(base, status);
  return JSON.stringify({ ...head, pid, ...tail });
}

/**
 * The same JSON in two pieces, before and after the pid: for the hooks the
 * container init runs itself, which alone knows its pid as the container
 * sees it.
 */
export function hookStateAroundPid(base: StateForHooks, status: string): [string, string] {
  const [head, tail] = withoutPid(base, status);
  return [`${JSON.stringify(head).slice(0, -1)},"pid":`, `,${JSON.stringify(tail).slice(1)}`];
}
