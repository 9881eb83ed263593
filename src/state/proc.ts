// Facts about a process from /proc/<pid>/stat. A pid is only ours if its
// start time is the one recorded at create: pids get reused.
import { readFileSync } from 'node:fs';

interface Stat {
  state: string;
  startTime: string;
}

function stat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) S ppid ...": comm may contain spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0], startTime: fields[19] };
}

export function startTimeOf(pid: number): string | undefined {
  return stat(pid)?.startTime;
}

/** 'alive', 'zombie' (exited, not yet reaped) or 'gone' (or another process now). */
export function processState(pid: number, startTime: string): 'alive' | 'zombie' | 'gone' {
  const s = stat(pid);
  if (!s || s.startTime !== startTime) return 'gone';
  return s.state === 'Z' || s.state === 'X' ? 'zombie' : 'alive';
}
