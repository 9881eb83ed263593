// Signals by name (KILL, SIGKILL) or number, as `runc kill` takes them.
import { TsrunError } from './errors';

export function parseSignal(value: string): number {
  if (/^\d+$/.test(value)) {
    const n = Number(value);
    if (n > 0 && n <= 64) return n;
  } else {
    const name = value.toUpperCase();
    const full = name.startsWith('SIG') ? name : `SIG${name}`;
    // Required here: node:os is not among the modules Node starts with, and
    // only kill takes a signal's name (about 0.15 ms of every command that
    // loads this file otherwise).
    const { constants } = require('node:os') as typeof import('node:os');
    const n = (constants.signals as Record<string, number>)[full];
    if (n !== undefined) return n;
    const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(full) ?? /^SIGRTMAX(?:-(\d+))?$/.exec(full);
    if (rt) {
      const off = Number(rt[1] ?? 0);
      const sig = full.startsWith('SIGRTMIN') ? 34 + off : 64 - off;
      if (sig >= 34 && sig <= 64) return sig;
    }
  }
  throw new TsrunError(`unknown signal ${JSON.stringify(value)}`);
}
