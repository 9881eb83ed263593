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
    951_782_399_999, 951_782_400_000, 951_868_800_000, // 2000-02-28/29 and 03-01: a leap day of a year divisible by 400
    4_107_542_400_000, 4_107_628_800_000, // 2100-02-28 and 03-01: no leap day in a century year
    -62_167_219_200_000, // 0000-01-01
    253_402_300_799_999, // 9999-12-31T23:59:59.999Z
  ];
  for (const ms of edges) t.equal(isoTime(ms), new Date(ms).toISOString(), String(ms));
  let differing = 0;
  for (let i = 0; i < 200_000; i++) {
    const ms = Math.floor(Math.random() * 253_402_300_800_000);
    if (isoTime(ms) !== new Date(ms).toISOString()) differing++;
  }
  t.equal(differing, 0, 'random times of years 1970 to 9999');
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
