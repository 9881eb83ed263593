// Throughput: many `run` of /bin/true, one after another (crun's headline
// benchmark) and from several clients at once for a fixed time.
import { execAsync, exec } from './measure';
import type { Runtime } from './runtimes';

export interface Sequential {
  totalMs: number;
  failures: number;
}

/** count runs of each runtime, interleaved run by run so that load changes hit all alike. */
export function sequentialRuns(rts: Runtime[], bundle: string, count: number, idPrefix: string): Map<string, Sequential> {
  const out = new Map(rts.map((rt) => [rt.name, { totalMs: 0, failures: 0 }]));
  for (let i = 0; i < count; i++) {
    for (const rt of rts) {
      const r = exec([...rt.argv, 'run', '--bundle', bundle, `${idPrefix}s${i}`]);
      const s = out.get(rt.name)!;
      s.totalMs += r.ms;
      if (r.status !== 0) {
        s.failures++;
        if (s.failures === 1) console.log(`# ${rt.name} run failed (${r.status}): ${r.stderr.trim()}`);
        exec([...rt.argv, 'delete', '--force', `${idPrefix}s${i}`]);
      }
    }
  }
  return out;
}

export interface Concurrent {
  completed: number;
  failures: number;
  seconds: number;
}

/** `clients` loops of `run` for `seconds`; a run started before the deadline is waited for and counted. */
export async function concurrentRuns(rt: Runtime, bundle: string, clients: number, seconds: number, idPrefix: string): Promise<Concurrent> {
  const result = { completed: 0, failures: 0, seconds: 0 };
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const client = async (c: number) => {
    for (let i = 0; performance.now() < deadline; i++) {
      const id = `${idPrefix}c${c}-${i}`;
      const r = await execAsync([...rt.argv, 'run', '--bundle', bundle, id]);
      if (r.status === 0) result.completed++;
      else {
        result.failures++;
        if (result.failures === 1) console.log(`# ${rt.name} run failed (${r.status}): ${r.stderr.trim()}`);
        exec([...rt.argv, 'delete', '--force', id]);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
  result.seconds = (performance.now() - start) / 1000;
  return result;
}
