// process.scheduler and process.ioPriority (config.md "Linux Process") as
// the numbers sched_setattr(2) and ioprio_set(2) take.
import { TsrunError } from '../errors';
import { type PlanRecord, record } from '../init/protocol';
import { join } from '../spec/fieldpath';
import { exactInteger } from '../spec/json';
import type { Process } from '../spec/types';

const policies: Record<string, number> = {
  SCHED_OTHER: 0,
  SCHED_FIFO: 1,
  SCHED_RR: 2,
  SCHED_BATCH: 3,
  SCHED_ISO: 4,
  SCHED_IDLE: 5,
  SCHED_DEADLINE: 6,
};

const schedFlags: Record<string, number> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01,
  SCHED_FLAG_RECLAIM: 0x02,
  SCHED_FLAG_DL_OVERRUN: 0x04,
  SCHED_FLAG_KEEP_POLICY: 0x08,
  SCHED_FLAG_KEEP_PARAMS: 0x10,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
};

const ioClasses: Record<string, number> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };

interface Scheduler {
  policy: string;
  nice?: number;
  priority?: number;
  flags?: string[];
  runtime?: number;
  deadline?: number;
  period?: number;
}

export function priorityRecords(proc: Process): PlanRecord[] {
  const records: PlanRecord[] = [];
  const s = proc.scheduler as Scheduler | undefined;
  if (s) {
    const policy = policies[s.policy];
    if (policy === undefined) throw new TsrunError(`unknown policy ${s.policy}`, 'process.scheduler.policy');
    let flags = 0;
    (s.flags ?? []).forEach((f, i) => {
      if (!(f in schedFlags)) throw new TsrunError(`unknown flag ${f}`, join('process.scheduler.flags', i));
      flags |= schedFlags[f];
    });
    const big = (k: 'runtime' | 'deadline' | 'period') => (s[k] === undefined ? 0n : exactInteger(s, k, `process.scheduler.${k}`));
    records.push(record('SCHEDULER', 'process.scheduler', { policy, flags, nice: s.nice ?? 0, priority: s.priority ?? 0, runtime: big('runtime'), deadline: big('deadline'), period: big('period') }));
  }
  const io = proc.ioPriority;
  if (io) {
    const cls = ioClasses[io.class];
    if (cls === undefined) throw new TsrunError(`unknown class ${io.class}`, 'process.ioPriority.class');
    records.push(record('IOPRIO', 'process.ioPriority', { value: (cls << 13) | io.priority }));
  }
  return records;
}
