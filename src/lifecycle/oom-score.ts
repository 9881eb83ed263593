// process.oomScoreAdj, written by tsrun for the process it starts.
import { writeFileSync } from 'node:fs';
import { TsrunError, messageOf } from '../errors';

/** process.oomScoreAdj, written for the init before it reads its plan. */
export function writeOomScoreAdj(pid: number, value: number): void {
  try {
    writeFileSync(`/proc/${pid}/oom_score_adj`, String(value));
  } catch (err) {
    // tsrun-init makes itself undumpable first thing: its /proc files are
    // then root's, out of an unprivileged tsrun's reach.
    const why = process.geteuid?.() !== 0 ? ' (an unprivileged tsrun cannot set it: rootless)' : '';
    throw new TsrunError(`cannot set it to ${value}: ${messageOf(err)}${why}`, 'process.oomScoreAdj');
  }
}
