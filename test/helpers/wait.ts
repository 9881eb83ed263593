// Waiting in tests, synchronously: the tests drive tsrun with spawnSync.

export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Polls cond every 20 ms until it holds or `ms` pass; the last answer. */
export function waitFor(cond: () => boolean, ms = 5000): boolean {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    sleepMs(20);
  }
  return cond();
}
