// src/util/time.ts: the state record's `created` and the log's `time` are
// written without Date#toISOString(), and must read exactly as it writes them.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { isoNow, isoTime } from '../../src/util/time';
import { need } from '../helpers/clients';

t.test('isoTime writes what Date#toISOString() writes', async (t) => {
  const edges = [
    0, -1, 1, 999, 1000, 86_399_999, 86_400_000, // the epoch's first day and its ends
    951_696_000_000, 951_782_400_000, 951_868_800_000, // 2000-02-28, 02-29 and 03-01: a leap day of a year divisible by 400
    4_107_456_000_000, 4_107_542_400_000, // 2100-02-28 and 03-01: no leap day in a century year
    -62_167_219_200_000, // 0000-01-01
    253_402_300_799_999, // 9999-12-31T23:59:59.999Z
  ];
  for (const ms of edges) t.equal(isoTime(ms), new Date(ms).toISOString(), String(ms));
  t.equal(isoTime(951_782_400_000), '2000-02-29T00:00:00.000Z', 'the leap day itself');
  t.equal(isoTime(4_107_542_400_000), '2100-03-01T00:00:00.000Z', 'no 2100-02-29');
  const first = -62_167_219_200_000;
  const span = 253_402_300_800_000 - first;
  const differing: number[] = [];
  for (let i = 0; i < 200_000; i++) {
    const ms = first + Math.floor(Math.random() * span);
    if (isoTime(ms) !== new Date(ms).toISOString()) differing.push(ms);
  }
  t.same(differing.slice(0, 5), [], 'random times of years 0 to 9999 (the first few that differ)');
  for (const bad of [first - 1, 253_402_300_800_000, 1.5, Number.NaN]) t.throws(() => isoTime(bad), RangeError, `${bad}: refused (years 0 to 9999, whole milliseconds)`);
  const before = Date.now();
  const now = Date.parse(isoNow());
  t.ok(now >= before && now <= Date.now(), 'isoNow is now');
});

t.test('isoNow leaves the local time zone unread', async (t) => {
  if (!need(t, ['strace'], 'strace')) return;
  // The reason for isoTime: Date#toISOString() reads /etc/localtime (V8
  // sets up its date cache), about 0.3 ms of every create. (env -i: the
  // test runner's NODE_OPTIONS load code of its own.)
  const code = `require(${JSON.stringify(join(__dirname, '..', '..', 'dist', 'src', 'util', 'time.js'))}).isoNow()`;
  const trace = (expr: string) => spawnSync('strace', ['-f', '-e', 'trace=openat,open', '/usr/bin/env', '-i', process.execPath, '-e', expr], { encoding: 'utf8' });
  const ours = trace(code);
  t.equal(ours.status, 0, ours.stderr);
  t.match(ours.stderr, /time\.js/, 'the trace shows the module loaded');
  t.notMatch(ours.stderr, /localtime/, 'isoNow');
  t.match(trace('new Date().toISOString()').stderr, /localtime/, 'toISOString does read it (else this test shows nothing)');
});
