// tsrun events <id>: the container's stats every --interval and an "oom"
// event at every OOM of its memory cgroup, one JSON line each, until the
// container stops (runc's events.go), or until nobody reads them (a closed
// stdout: runc dies of SIGPIPE at its next write; tsrun ends there too,
// with status 0, see stream()); with --stats one stats event and exit. The container's lock is held only to check its status: a stream
// must not keep kill and delete waiting.
import type { CgroupManager } from '../cgroups/manager';
import { TsrunError, messageOf } from '../errors';
import { log } from '../log';
import { stdout } from '../output';
import { processState } from '../state/proc';
import { eventLine, parseGoDuration, statsData } from './events-format';
import { type OomWatch, watchOomV1, watchOomV2 } from './events-oom';
import { withContainer } from './container';

/** How often a stream looks whether the init still lives. */
const STOP_POLL_MS = 100;
/** setInterval's largest delay; a longer --interval waits this long. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** --interval as Go's flag parsing reads it, in nanoseconds; runc's words for a bad one. */
export function parseInterval(text: string): bigint {
  try {
    return parseGoDuration(text);
  } catch (err) {
    throw new TsrunError(`invalid value ${JSON.stringify(text)} for flag --interval: parse error (${messageOf(err)}; a Go duration such as 500ms, 5s or 1m30s)`);
  }
}

export async function events(root: string, id: string, opts: { stats: boolean; interval: string }): Promise<void> {
  // As runc: the flag is parsed first, then the container looked up, then the value and the status checked.
  const interval = parseInterval(opts.interval);
  // The manager only reads files: it outlives the lock.
  const { cgroups, init } = withContainer(root, id, 'shared', (c) => {
    if (interval <= 0n) throw new TsrunError('duration interval must be greater than 0', '--interval');
    if (c.status() === 'stopped') throw new TsrunError(`container with id ${c.id} is not running`);
    return { cgroups: c.cgroups, init: c.rec.init as { pid: number; startTime: string } };
  });
  if (opts.stats) {
    stdout(eventLine('stats', id, statsData(cgroups.stats())));
    return;
  }
  const intervalMs = Math.min(MAX_TIMER_MS, Math.max(1, Number(interval / 1_000_000n)));
  await stream(id, { cgroups, intervalMs, alive: () => processState(init.pid, init.startTime) === 'alive' });
}

interface StreamSource {
  cgroups: Pick<CgroupManager, 'version' | 'controllerDir' | 'stats'>;
  intervalMs: number;
  /** Whether the container's init still lives. */
  alive(): boolean;
}

/**
 * Prints events until the container stops (or its memory cgroup is
 * removed), or until a write finds stdout closed (`tsrun events c | head
 * -1`). That end is not an error: status 0 rather than runc's death by
 * SIGPIPE (141 in a shell with pipefail), since Node ignores SIGPIPE and
 * ending normally closes the OOM watch (an eventfd registration) on the way.
 */
export function stream(id: string, src: StreamSource): Promise<void> {
  const { cgroups } = src;
  const memoryDir = cgroups.controllerDir('memory');
  return new Promise<void>((resolve, reject) => {
    let finished = false;
    let oom: OomWatch | undefined;
    let ticker: NodeJS.Timeout | undefined;
    let poller: NodeJS.Timeout | undefined;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearInterval(ticker);
      clearInterval(poller);
      // An OOM that killed the init was signalled before it died: reported before the stream ends.
      (oom ? oom.close() : Promise.resolve()).then(resolve, reject);
    };
    const print = (line: string) => {
      if (!stdout(line)) finish();
    };
    const handlers = { oom: () => print(eventLine('oom', id)), gone: finish };
    try {
      if (memoryDir) oom = cgroups.version === 1 ? watchOomV1(memoryDir, handlers) : watchOomV2(memoryDir, handlers);
    } catch (err) {
      reject(err);
      return;
    }
    ticker = setInterval(() => {
      try {
        print(eventLine('stats', id, statsData(cgroups.stats())));
      } catch (err) {
        // As runc: a failed read is logged, and the next tick tries again.
        log('error', `cannot read the stats of container ${id}: ${messageOf(err)}`);
      }
    }, src.intervalMs);
    poller = setInterval(() => {
      if (!src.alive()) finish();
      else oom?.check();
    }, STOP_POLL_MS);
  });
}
