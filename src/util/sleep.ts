// A synchronous sleep, for the short waits of a CLI that has nothing else
// to do meanwhile (a cgroup becoming removable, a killed process exiting).
const cell = new Int32Array(new SharedArrayBuffer(4));

export function sleepMs(ms: number): void {
  Atomics.wait(cell, 0, 0, ms);
}

/**
 * A monotonic clock in ms, for deadlines. Not performance.now(): the first
 * use of `performance` loads perf_hooks, about 2 ms of a command.
 */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
