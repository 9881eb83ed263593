// config.json integers beyond 2^53 survive parsing exactly (RLIM_INFINITY,
// i64 limits, seccomp argument masks), and a value that fits no 64-bit
// field is refused with its path.
import t from 'tap';
import { encodePlan } from '../../src/init/protocol';
import { exactInteger, parseJson } from '../../src/spec/json';

t.test('big integers keep their digits; everything else parses as JSON.parse does', async (t) => {
  const text = '{"a": 18446744073709551615, "b": [9223372036854775807, -9223372036854775808, 1.5e300, 12], "s": "18446744073709551615 \\" 18446744073709551615", "n": 9007199254740991}';
  const v = parseJson(text) as { a: number; b: number[]; s: string; n: number };
  t.same({ ...v, a: 0, b: 0 }, { ...JSON.parse(text), a: 0, b: 0 }, 'strings and safe numbers are untouched');
  t.equal(v.a, 18446744073709551615, 'the value itself is still a number (for the schema)');
  t.equal(exactInteger(v, 'a', 'a'), 18446744073709551615n, 'RLIM_INFINITY exactly');
  t.equal(exactInteger(v.b, 0, 'b[0]'), 9223372036854775807n, 'i64 max exactly');
  t.equal(exactInteger(v.b, 1, 'b[1]'), -9223372036854775808n, 'i64 min exactly');
  t.equal(exactInteger(v.b, 3, 'b[3]'), 12n, 'a small integer');
  t.equal(exactInteger(v, 'n', 'n'), 9007199254740991n, '2^53-1 needs no help');
  t.equal(v.s, '18446744073709551615 " 18446744073709551615', 'digits inside a string stay a string');
});

t.test('the shortest unsafe integers (16 digits) keep their digits; a config without any is JSON.parse\'s', async (t) => {
  const v = parseJson('{"x": 9007199254740993, "y": -9007199254740993}') as object;
  t.equal(exactInteger(v, 'x', 'x'), 9007199254740993n, '2^53+1: 16 digits, not a safe integer');
  t.equal(exactInteger(v, 'y', 'y'), -9007199254740993n);
  const plain = '{"a": 123456789012345, "b": [1, -2.5e10], "s": "900719925474099"}';
  t.same(parseJson(plain), JSON.parse(plain));
  t.equal(exactInteger(parseJson(plain) as object, 'a', 'a'), 123456789012345n, '15 digits: exact as a double');
});

t.test('a value that fits no 64-bit field is refused, naming it', async (t) => {
  const v = parseJson('{"soft": 18446744073709551616, "low": -9223372036854775809}') as object;
  t.throws(() => exactInteger(v, 'soft', 'process.rlimits[0].soft'), /^process\.rlimits\[0\]\.soft: 18446744073709551616 does not fit in 64 bits$/);
  t.throws(() => exactInteger(v, 'low', 'x'), /x: -9223372036854775809 does not fit in 64 bits/);
});

t.test('the plan never carries a rounded number: a double past 2^53 is an error naming its field', async (t) => {
  t.throws(() => encodePlan([{ tag: 'RLIMIT', field: 'process.rlimits[0]', fields: [7, 2 ** 64, 1n] }], {}), /^process\.rlimits\[0\]: 18446744073709552000 cannot be passed exactly$/);
  t.ok(encodePlan([{ tag: 'RLIMIT', field: 'process.rlimits[0]', fields: [7, 18446744073709551615n, 1n] }], {}).includes(Buffer.from('18446744073709551615')), 'a bigint is passed digit for digit');
});
