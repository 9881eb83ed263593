// `tsrun events` without a container: the cgroup files read with runc
// 1.1's rules (readRuncStats), printed as runc prints them (one
// types.Event a line, Go's JSON encoding), the --interval value parsed as
// Go's time.ParseDuration, and the cgroup v2 OOM watch on a fake
// memory.events (this host's cgroup2 has no memory controller).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { cpuList, emptyRuncStats, hugePageSizeName, readRuncStats } from '../../src/cgroups/stats';
import { encodeJson, eventLine, parseGoDuration, statsData } from '../../src/container/events-format';
import { parseInterval } from '../../src/container/events';
import { watchOomV2 } from '../../src/container/events-oom';
import { errorOf } from '../helpers/errors';

const UNLIMITED = '9223372036854771712'; // v1's "no limit": 2^63-4096, beyond a double's exact integers
const MAX = '18446744073709551615'; // v2's "max" as runc reads it

/** A reader over fake files: "controller/file" (v1) or "file" (v2). */
const reader = (files: Record<string, string>) => (controller: string, file: string) => files[controller ? `${controller}/${file}` : file];

t.test('Go durations', async (t) => {
  const cases: [string, bigint][] = [
    ['5s', 5_000_000_000n],
    ['500ms', 500_000_000n],
    ['1m30s', 90_000_000_000n],
    ['1.5h', 5_400_000_000_000n],
    ['2h45m', 9_900_000_000_000n],
    ['.5s', 500_000_000n],
    ['1.s', 1_000_000_000n],
    ['100us', 100_000n],
    ['100\u00b5s', 100_000n],
    ['100\u03bcs', 100_000n],
    ['7ns', 7n],
    ['0', 0n],
    ['-1s', -1_000_000_000n],
    ['+2m', 120_000_000_000n],
    ['0.000000001s', 1n],
    ['9223372036854775807ns', 9223372036854775807n],
    ['-9223372036854775808ns', -9223372036854775808n],
  ];
  for (const [text, ns] of cases) t.equal(parseGoDuration(text), ns, text);
  const bad: [string, string][] = [
    ['', 'time: invalid duration ""'],
    ['1', 'time: missing unit in duration "1"'],
    ['5x', 'time: unknown unit "x" in duration "5x"'],
    ['1ss', 'time: unknown unit "ss" in duration "1ss"'],
    ['abc', 'time: invalid duration "abc"'],
    ['-', 'time: invalid duration "-"'],
    ['.s', 'time: invalid duration ".s"'],
    ['1s 2s', 'time: unknown unit "s " in duration "1s 2s"'],
    ['9223372036854775808ns', 'time: invalid duration "9223372036854775808ns"'],
    ['3000000h', 'time: invalid duration "3000000h"'],
  ];
  for (const [text, message] of bad) t.equal(errorOf(() => parseGoDuration(text)), message, JSON.stringify(text));
  t.equal(
    errorOf(() => parseInterval('5x')),
    'invalid value "5x" for flag --interval: parse error (time: unknown unit "x" in duration "5x"; a Go duration such as 500ms, 5s or 1m30s)',
    'the flag is named, with runc\'s words',
  );
});

t.test("Go's JSON encoding", async (t) => {
  t.equal(encodeJson(BigInt(UNLIMITED)), UNLIMITED, 'a uint64 beyond 2^53 exactly (JSON.stringify would print 9223372036854772000)');
  t.equal(encodeJson(BigInt(MAX)), MAX);
  t.equal(encodeJson(new Map([['b', 1n], ['a', null]])), '{"b":1,"a":null}', 'struct fields in their order');
  t.equal(encodeJson('<a&b>\u2028"\n'), '"\\u003ca\\u0026b\\u003e\\u2028\\"\\n"', 'HTML characters escaped as Go does');
  t.equal(eventLine('oom', 'c1'), '{"type":"oom","id":"c1"}\n', 'an OOM event has no data');
});

t.test('runc names huge page sizes and cpu lists as it does', async (t) => {
  t.same([64, 2048, 32768, 1048576].map(hugePageSizeName), ['64KB', '2MB', '32MB', '1GB']);
  t.same(cpuList('0-3,8,10-11\n'), [0, 1, 2, 3, 8, 10, 11]);
  t.same(cpuList(''), []);
});

// A runc 1.1.5 container of this host (64 MiB memory limit, 100 pids),
// `runc events --stats` verbatim, memory.stat shortened; the files below
// are what its cgroups held.
const v1Files: Record<string, string> = {
  'cpuacct/cpuacct.usage': '48123801\n',
  'cpuacct/cpuacct.usage_percpu': '27577198 20546603 \n',
  'cpuacct/cpuacct.usage_all': 'cpu user system\n0 8000000 20000000\n1 8000000 12000000\n',
  'cpuacct/cpuacct.stat': 'user 1\nsystem 3\n',
  'cpu/cpu.stat': 'nr_periods 0\nnr_throttled 0\nthrottled_time 0\nnr_bursts 0\nburst_time 0\n',
  'cpuset/cpuset.cpus': '0-1\n',
  'cpuset/cpuset.cpu_exclusive': '0\n',
  'cpuset/cpuset.mems': '0\n',
  'cpuset/cpuset.mem_hardwall': '0\n',
  'cpuset/cpuset.mem_exclusive': '0\n',
  'cpuset/cpuset.memory_migrate': '0\n',
  'cpuset/cpuset.memory_spread_page': '0\n',
  'cpuset/cpuset.memory_spread_slab': '0\n',
  'cpuset/cpuset.memory_pressure': '0\n',
  'cpuset/cpuset.sched_load_balance': '1\n',
  'cpuset/cpuset.sched_relax_domain_level': '-1\n',
  'memory/memory.stat': `cache 0\nrss 53248\nhierarchical_memsw_limit ${UNLIMITED}\nactive_anon 4096\n`,
  'memory/memory.usage_in_bytes': '565248\n',
  'memory/memory.max_usage_in_bytes': '2383872\n',
  'memory/memory.failcnt': '0\n',
  'memory/memory.limit_in_bytes': '67108864\n',
  'memory/memory.memsw.usage_in_bytes': '565248\n',
  'memory/memory.memsw.max_usage_in_bytes': '2383872\n',
  'memory/memory.memsw.failcnt': '0\n',
  'memory/memory.memsw.limit_in_bytes': `${UNLIMITED}\n`,
  'memory/memory.kmem.usage_in_bytes': '258048\n',
  'memory/memory.kmem.max_usage_in_bytes': '552960\n',
  'memory/memory.kmem.failcnt': '0\n',
  'memory/memory.kmem.limit_in_bytes': `${UNLIMITED}\n`,
  'memory/memory.kmem.tcp.usage_in_bytes': '0\n',
  'memory/memory.kmem.tcp.max_usage_in_bytes': '0\n',
  'memory/memory.kmem.tcp.failcnt': '0\n',
  'memory/memory.kmem.tcp.limit_in_bytes': `${UNLIMITED}\n`,
  'memory/memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n',
  'pids/pids.current': '1\n',
  'pids/pids.max': '100\n',
  // bfq is this host's scheduler; nothing read or written yet
  'blkio/blkio.bfq.io_serviced_recursive': '',
  'blkio/blkio.bfq.io_service_bytes_recursive': '',
  'blkio/blkio.throttle.io_serviced_recursive': 'Total 0\n',
  'blkio/blkio.throttle.io_service_bytes_recursive': 'Total 0\n',
};
const runcV1 =
  '{"type":"stats","id":"evr","data":{"cpu":{"usage":{"total":48123801,"percpu":[27577198,20546603],"percpu_kernel":[20000000,12000000],"percpu_user":[8000000,8000000],"kernel":30000000,"user":10000000},"throttling":{}},' +
  '"cpuset":{"cpus":[0,1],"cpu_exclusive":0,"mems":[0],"mem_hardwall":0,"mem_exclusive":0,"memory_migrate":0,"memory_spread_page":0,"memory_spread_slab":0,"memory_pressure":0,"sched_load_balance":1,"sched_relax_domain_level":-1},' +
  '"memory":{"usage":{"limit":67108864,"usage":565248,"max":2383872,"failcnt":0},"swap":{"limit":9223372036854771712,"usage":565248,"max":2383872,"failcnt":0},"kernel":{"limit":9223372036854771712,"usage":258048,"max":552960,"failcnt":0},"kernelTCP":{"limit":9223372036854771712,"failcnt":0},' +
  '"raw":{"active_anon":4096,"cache":0,"hierarchical_memsw_limit":9223372036854771712,"rss":53248}},' +
  '"pids":{"current":1,"limit":100},"blkio":{},"hugetlb":{},"intel_rdt":{},"network_interfaces":null}}\n';

t.test('v1: the stats event is the one runc 1.1.5 printed for the same files', async (t) => {
  const stats = readRuncStats(1, reader(v1Files), []);
  t.equal(eventLine('stats', 'evr', statsData(stats)), runcV1);
  t.equal(stats.oomKills, 2n, 'the OOM kill count of memory.oom_control (for the watch, not printed)');
});

t.test('v1: what runc leaves out or zeroes', async (t) => {
  const files = { ...v1Files, 'pids/pids.max': 'max\n', 'memory/memory.stat': '' };
  for (const k of Object.keys(files)) if (k.startsWith('memory/memory.kmem') || k.startsWith('memory/memory.memsw')) delete files[k];
  const data = encodeJson(statsData(readRuncStats(1, reader(files), [])));
  t.match(data, /"pids":\{"current":1\}/, 'pids.max "max" is limit 0, left out');
  t.match(data, /"swap":\{"limit":0,"failcnt":0\},"kernel":\{"limit":0,"failcnt":0\},"kernelTCP":\{"limit":0,"failcnt":0\}\}/, 'no swap or kmem accounting: zero entries, no raw for an empty memory.stat');
  const none = encodeJson(statsData(readRuncStats(1, reader({}), [])));
  t.equal(
    none,
    '{"cpu":{"usage":{"kernel":0,"user":0},"throttling":{}},"cpuset":{"cpu_exclusive":0,"mem_hardwall":0,"mem_exclusive":0,"memory_migrate":0,"memory_spread_page":0,"memory_spread_slab":0,"memory_pressure":0,"sched_load_balance":0,"sched_relax_domain_level":0},' +
      '"memory":{"usage":{"limit":0,"failcnt":0},"swap":{"limit":0,"failcnt":0},"kernel":{"limit":0,"failcnt":0},"kernelTCP":{"limit":0,"failcnt":0}},"pids":{},"blkio":{},"hugetlb":{},"intel_rdt":{},"network_interfaces":null}',
    'no cgroup files at all: runc\'s zero stats, every struct still there',
  );
  t.equal(encodeJson(statsData(emptyRuncStats())), none);
});

t.test('v1 blkio: the first I/O scheduler with entries, as runc', async (t) => {
  const blkio = (files: Record<string, string>) => encodeJson(statsData(readRuncStats(1, reader(files), [])).get('blkio') ?? null);
  t.equal(
    blkio({
      'blkio/blkio.bfq.io_serviced_recursive': '',
      'blkio/blkio.throttle.io_serviced_recursive': '8:0 Read 2\n8:0 Write 1\n8:0 Sync 3\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 3\nTotal 3\n',
      'blkio/blkio.throttle.io_service_bytes_recursive': '8:0 Read 4096\n8:0 Write 512\nTotal 4608\n',
    }),
    '{"ioServiceBytesRecursive":[{"major":8,"op":"Read","value":4096},{"major":8,"op":"Write","value":512}],' +
      '"ioServicedRecursive":[{"major":8,"op":"Read","value":2},{"major":8,"op":"Write","value":1},{"major":8,"op":"Sync","value":3},{"major":8,"op":"Async"},{"major":8,"op":"Discard"},{"major":8,"op":"Total","value":3}]}',
    'empty bfq files: the throttling ones; the closing Total line skipped; minor 0 and value 0 left out (omitempty)',
  );
  t.equal(
    blkio({
      'blkio/blkio.bfq.io_serviced_recursive': '259:1 Read 5\n',
      'blkio/blkio.bfq.io_service_bytes_recursive': '259:1 Read 20480\n',
      'blkio/blkio.throttle.io_serviced_recursive': '8:0 Read 2\n',
      'blkio/blkio.throttle.io_service_bytes_recursive': '8:0 Read 4096\n',
    }),
    '{"ioServiceBytesRecursive":[{"major":259,"minor":1,"op":"Read","value":20480}],"ioServicedRecursive":[{"major":259,"minor":1,"op":"Read","value":5}]}',
    'bfq with entries wins over throttling',
  );
  t.equal(
    blkio({ 'blkio/blkio.sectors_recursive': '8:16 96\n', 'blkio/blkio.io_service_time_recursive': '8:16 Read 7\n' }),
    '{"ioServiceTimeRecursive":[{"major":8,"minor":16,"op":"Read","value":7}],"sectorsRecursive":[{"major":8,"minor":16,"value":96}]}',
    'cfq: a line without an op; a later empty file ends the set with what was found',
  );
});

t.test('v1 hugetlb: one entry per page size of the host', async (t) => {
  const files = { 'hugetlb/hugetlb.2MB.usage_in_bytes': '4194304\n', 'hugetlb/hugetlb.2MB.max_usage_in_bytes': '6291456\n', 'hugetlb/hugetlb.2MB.failcnt': '1\n', 'hugetlb/hugetlb.1GB.usage_in_bytes': '0\n', 'hugetlb/hugetlb.1GB.max_usage_in_bytes': '0\n', 'hugetlb/hugetlb.1GB.failcnt': '0\n' };
  t.equal(encodeJson(statsData(readRuncStats(1, reader(files), ['2MB', '1GB'])).get('hugetlb') ?? null), '{"1GB":{"failcnt":0},"2MB":{"usage":4194304,"max":6291456,"failcnt":1}}', 'sorted by name; no hugetlb hierarchy or size: none');
  t.equal(encodeJson(statsData(readRuncStats(1, reader({}), ['2MB'])).get('hugetlb') ?? null), '{}');
});

t.test('v2: runc 1.1 semantics (swap as memory+swap, "max", pids without the controller, io.stat)', async (t) => {
  const files: Record<string, string> = {
    'cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 2\nthrottled_usec 300\n',
    'memory.stat': 'anon 1024\nfile 2048\n',
    'memory.current': '4096\n',
    'memory.max': 'max\n',
    'memory.peak': '8192\n',
    'memory.events': 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n',
    'memory.swap.current': '512\n',
    'memory.swap.max': 'max\n',
    'cgroup.procs': '1\n22\n',
    'io.stat': '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n',
    'hugetlb.2MB.current': '0\n',
    'hugetlb.2MB.events': 'max 0\n',
  };
  const stats = readRuncStats(2, reader(files), ['2MB']);
  t.equal(
    encodeJson(statsData(stats)),
    '{"cpu":{"usage":{"total":1500000,"kernel":500000,"user":1000000},"throttling":{"periods":10,"throttledPeriods":2,"throttledTime":300000}},' +
      '"cpuset":{"cpu_exclusive":0,"mem_hardwall":0,"mem_exclusive":0,"memory_migrate":0,"memory_spread_page":0,"memory_spread_slab":0,"memory_pressure":0,"sched_load_balance":0,"sched_relax_domain_level":0},' +
      `"memory":{"cache":2048,"usage":{"limit":${MAX},"usage":4096,"max":8192,"failcnt":3},"swap":{"limit":${MAX},"usage":4608,"failcnt":0},"kernel":{"limit":0,"failcnt":0},"kernelTCP":{"limit":0,"failcnt":0},"raw":{"anon":1024,"file":2048}},` +
      '"pids":{"current":2},' +
      '"blkio":{"ioServiceBytesRecursive":[{"major":8,"op":"Read","value":4096},{"major":8,"op":"Write","value":8192}],"ioServicedRecursive":[{"major":8,"op":"Read","value":1},{"major":8,"op":"Write","value":2}]},' +
      '"hugetlb":{"2MB":{"failcnt":0}},"intel_rdt":{},"network_interfaces":null}',
  );
  t.equal(stats.oomKills, 1n);
  const limited = readRuncStats(2, reader({ ...files, 'memory.max': '200\n', 'memory.swap.max': '100\n', 'pids.current': '3\n', 'pids.max': 'max\n' }), []);
  t.same([limited.memory.usage.limit, limited.memory.swap.limit], [200n, 300n], 'a swap limit is reported as memory+swap (v1\'s memsw)');
  t.same(limited.pids, { current: 3n, limit: 0n }, 'pids.max "max" is 0');
});

t.test('v2 OOM watch: memory.events\' oom_kill, by inotify and by check()', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-oomv2-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'memory.events');
  const write = (oomKill: number, max = 0) => writeFileSync(file, `low 0\nhigh 0\nmax ${max}\noom ${oomKill}\noom_kill ${oomKill}\n`);
  write(4); // OOMs before the watch are not reported
  let ooms = 0;
  let notified: (() => void) | undefined;
  const w = watchOomV2(dir, { oom: () => (ooms++, notified?.()), gone: () => {} });
  t.equal(ooms, 0, 'kills from before the watch: no event');
  const seen = new Promise<void>((resolve) => (notified = resolve));
  write(5);
  await Promise.race([seen, new Promise((r) => setTimeout(r, 3000))]);
  t.equal(ooms, 1, 'a new kill: one event, through inotify without any polling');
  write(5, 9);
  await new Promise((r) => setTimeout(r, 200));
  w.check();
  t.equal(ooms, 1, 'memory.events changed, oom_kill did not: no event');
  notified = undefined;
  write(7);
  w.check();
  t.equal(ooms, 2, 'two kills seen at once: one event (as runc, one a notification)');
  await new Promise((r) => setTimeout(r, 200));
  t.equal(ooms, 2, 'the inotify of that write does not report it again');
  write(8);
  await w.close();
  t.equal(ooms, 3, 'close() reports a kill not yet seen');
  write(9);
  await new Promise((r) => setTimeout(r, 200));
  t.equal(ooms, 3, 'nothing after close()');
});
