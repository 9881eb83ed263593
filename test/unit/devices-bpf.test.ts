// The cgroup v2 device program (src/cgroups/devices/bpf.ts), run by a small
// eBPF interpreter on struct bpf_cgroup_dev_ctx values and compared with a
// plain statement of the v1 devices cgroup's rules over a grid of requests.
// The interpreter knows only the instructions the builder is meant to emit
// and fails on anything else; the kernel's verifier and real enforcement are
// in test/integration/devices-bpf.test.ts.
import t from 'tap';
import { type DeviceAllowlist, type DeviceRule, deviceProgram } from '../../src/cgroups/devices/bpf';

const MKNOD = 1, READ = 2, WRITE = 4;
const BLOCK = 1, CHAR = 2;

interface Request {
  type: 'b' | 'c';
  major: number;
  minor: number;
  access: number; // ACC_* bits
}

// --- the interpreter -------------------------------------------------------

const U32 = 0xffffffffn;
const CTX = Symbol('ctx');
type Reg = bigint | typeof CTX | undefined;

/** Runs `prog` with r1 = a bpf_cgroup_dev_ctx for `req`; returns r0 at exit. */
function run(prog: Buffer, req: Request): number {
  if (prog.length % 8 !== 0) throw new Error(`program of ${prog.length} bytes`);
  const ctx = [BigInt((req.access << 16) | (req.type === 'b' ? BLOCK : CHAR)), BigInt(req.major >>> 0), BigInt(req.minor >>> 0)];
  const regs: Reg[] = new Array(11).fill(undefined);
  regs[1] = CTX;
  const n = prog.length / 8;
  const scalar = (r: number, pc: number): bigint => {
    const v = regs[r];
    if (typeof v !== 'bigint') throw new Error(`pc ${pc}: r${r} is ${v === CTX ? 'the context' : 'uninitialized'}`);
    return v;
  };
  for (let pc = 0, steps = 0; ; pc++, steps++) {
    if (pc < 0 || pc >= n) throw new Error(`pc ${pc} outside the program`);
    if (steps > n) throw new Error('no exit');
    const code = prog.readUInt8(pc * 8);
    const dst = prog.readUInt8(pc * 8 + 1) & 0xf;
    const src = prog.readUInt8(pc * 8 + 1) >> 4;
    const off = prog.readInt16LE(pc * 8 + 2);
    const imm = prog.readInt32LE(pc * 8 + 4);
    const reserved = (fields: Record<string, number>) => {
      for (const [k, v] of Object.entries(fields)) if (v !== 0) throw new Error(`pc ${pc}: opcode 0x${code.toString(16)} with ${k} ${v}`);
    };
    if (dst > 9 && code !== 0x95) throw new Error(`pc ${pc}: writes r${dst}`);
    const jump = (taken: boolean) => {
      if (off <= 0) throw new Error(`pc ${pc}: jump offset ${off} (only forward jumps are expected)`);
      if (taken) pc += off;
    };
    const imm32 = BigInt(imm >>> 0);
    switch (code) {
      case 0x61: // ldxw dst, [src + off]
        reserved({ imm });
        if (regs[src] !== CTX || off % 4 !== 0 || off < 0 || off > 8) throw new Error(`pc ${pc}: load from r${src} + ${off}`);
        regs[dst] = ctx[off / 4];
        break;
      case 0xbc: // mov32 dst, src
        reserved({ off, imm });
        regs[dst] = scalar(src, pc) & U32;
        break;
      case 0x74: // rsh32 dst, imm
        reserved({ src, off });
        if (imm < 0 || imm > 31) throw new Error(`pc ${pc}: shift by ${imm}`);
        regs[dst] = (scalar(dst, pc) & U32) >> BigInt(imm);
        break;
      case 0x54: // and32 dst, imm
        reserved({ src, off });
        regs[dst] = scalar(dst, pc) & imm32;
        break;
      case 0xb7: // mov dst, imm (sign-extended to 64 bits)
        reserved({ src, off });
        regs[dst] = BigInt.asUintN(64, BigInt(imm));
        break;
      case 0x16: // jeq32 dst, imm
        reserved({ src });
        jump((scalar(dst, pc) & U32) === imm32);
        break;
      case 0x56: // jne32 dst, imm
        reserved({ src });
        jump((scalar(dst, pc) & U32) !== imm32);
        break;
      case 0x46: // jset32 dst, imm
        reserved({ src });
        jump((scalar(dst, pc) & imm32) !== 0n);
        break;
      case 0x95: {
        // exit
        reserved({ dst, src, off, imm });
        const r0 = scalar(0, pc);
        if (r0 !== 0n && r0 !== 1n) throw new Error(`pc ${pc}: exit with r0 = ${r0}`);
        return Number(r0);
      }
      default:
        throw new Error(`pc ${pc}: unexpected opcode 0x${code.toString(16)}`);
    }
  }
}

// --- the reference: security/device_cgroup.c, devcgroup_legacy_check_permission

const bitsOf = (access: string) => (access.includes('m') ? MKNOD : 0) | (access.includes('r') ? READ : 0) | (access.includes('w') ? WRITE : 0);

interface Semantics {
  matches(e: DeviceRule, q: Request): boolean;
  covers(e: DeviceRule, q: Request): boolean; // an allow exception grants the request
  touches(e: DeviceRule, q: Request): boolean; // a deny exception refuses the request
}

const exact: Semantics = {
  matches: (e, q) => (e.type === 'a' || e.type === q.type) && (e.major === -1 || e.major === q.major) && (e.minor === -1 || e.minor === q.minor),
  covers: (e, q) => (q.access & ~bitsOf(e.access)) === 0,
  touches: (e, q) => (q.access & bitsOf(e.access)) !== 0,
};

function reference(list: DeviceAllowlist, q: Request, s: Semantics = exact): number {
  if (list.defaultAllow) return list.exceptions.some((e) => s.matches(e, q) && s.touches(e, q)) ? 0 : 1;
  return list.exceptions.some((e) => s.matches(e, q) && s.covers(e, q)) ? 1 : 0;
}

// --- allowlists and requests -----------------------------------------------

const rule = (allow: boolean, type: DeviceRule['type'], major: number, minor: number, access: string): DeviceRule => ({ allow, type, major, minor, access });
const allow = (type: DeviceRule['type'], major: number, minor: number, access: string) => rule(true, type, major, minor, access);
const deny = (type: DeviceRule['type'], major: number, minor: number, access: string) => rule(false, type, major, minor, access);

const lists: Record<string, DeviceAllowlist> = {
  "runc's default": {
    defaultAllow: false,
    exceptions: [
      allow('b', -1, -1, 'm'),
      allow('c', -1, -1, 'm'),
      allow('c', 1, 3, 'rwm'),
      allow('c', 1, 5, 'rwm'),
      allow('c', 1, 7, 'rwm'),
      allow('c', 1, 8, 'rwm'),
      allow('c', 1, 9, 'rwm'),
      allow('c', 5, 0, 'rwm'),
      allow('c', 5, 2, 'rwm'),
      allow('c', 10, 200, 'rwm'),
      allow('c', 136, -1, 'rwm'),
    ],
  },
  'allow all but c 1:3 w and b 8:* rwm': { defaultAllow: true, exceptions: [deny('c', 1, 3, 'w'), deny('b', 8, -1, 'rwm')] },
  'deny all but c 1:9 r, c 1:3 rw, b 7:0 m': { defaultAllow: false, exceptions: [allow('c', 1, 9, 'r'), allow('c', 1, 3, 'rw'), allow('b', 7, 0, 'm')] },
  'allow all but c 1:9 r, c 5:* mw, b *:1 m': { defaultAllow: true, exceptions: [deny('c', 1, 9, 'r'), deny('c', 5, -1, 'mw'), deny('b', -1, 1, 'm')] },
  "type 'a' exceptions": { defaultAllow: false, exceptions: [allow('a', 7, -1, 'rw'), allow('a', -1, 3, 'm')] },
  "type 'a' deny exceptions": { defaultAllow: true, exceptions: [deny('a', 1, 5, 'r'), deny('a', 8, -1, 'rwm')] },
  'numbers above 2^31 (no sign extension)': { defaultAllow: false, exceptions: [allow('c', 0x80000000, 1, 'rwm'), allow('b', 3, 0xfffffffe, 'r')] },
  'deny all': { defaultAllow: false, exceptions: [] },
  'allow all': { defaultAllow: true, exceptions: [] },
};

/** Both types, each listed number, its neighbours and a few unlisted ones, every access 1..7. */
function grid(list: DeviceAllowlist): Request[] {
  const around = (ns: number[], extra: number[]) =>
    [...new Set([...extra, ...ns.filter((n) => n >= 0).flatMap((n) => [n - 1, n, n + 1])])].filter((n) => n >= 0 && n <= 0xffffffff).sort((a, b) => a - b);
  const majors = around(list.exceptions.map((e) => e.major), [0, 1, 2, 8, 4095]);
  const minors = around(list.exceptions.map((e) => e.minor), [0, 1, 3, 1048575]);
  const out: Request[] = [];
  for (const type of ['b', 'c'] as const)
    for (const major of majors) for (const minor of minors) for (let access = 1; access <= 7; access++) out.push({ type, major, minor, access });
  return out;
}

const show = (q: Request) => `${q.type} ${q.major}:${q.minor} ${['r', 'w', 'm'].filter((c) => q.access & bitsOf(c)).join('')}`;

for (const [name, list] of Object.entries(lists)) {
  t.test(`${name}: the program decides as the v1 devices cgroup`, async (t) => {
    const prog = deviceProgram(list);
    const requests = grid(list);
    const wrong = requests.filter((q) => run(prog, q) !== reference(list, q)).map((q) => `${show(q)}: program ${run(prog, q)}, kernel v1 ${reference(list, q)}`);
    t.same(wrong.slice(0, 10), [], `${wrong.length} of ${requests.length} requests decided wrongly`);
    // The grid is not one-sided: an always-allow or always-deny program fails it.
    const answers = new Set(requests.map((q) => reference(list, q)));
    if (list.exceptions.length) t.same([...answers].sort(), [0, 1], 'the grid has requests of both outcomes');
  });
}

// The grid is fine enough to catch a builder that drops a part of a rule:
// for each such mistake, some list has a request on which it answers wrongly.
t.test('each kind of builder mistake is caught by some request of the grid', async (t) => {
  const mistakes: Record<string, Partial<Semantics>> = {
    'ignores the type': { matches: (e, q) => (e.major === -1 || e.major === q.major) && (e.minor === -1 || e.minor === q.minor) },
    'ignores the major': { matches: (e, q) => (e.type === 'a' || e.type === q.type) && (e.minor === -1 || e.minor === q.minor) },
    'ignores the minor': { matches: (e, q) => (e.type === 'a' || e.type === q.type) && (e.major === -1 || e.major === q.major) },
    "treats 'a' as no type": { matches: (e, q) => e.type === q.type && (e.major === -1 || e.major === q.major) && (e.minor === -1 || e.minor === q.minor) },
    'ignores access': { covers: () => true, touches: () => true },
    'allows on partial access': { covers: (e, q) => (q.access & bitsOf(e.access)) !== 0 },
    'denies only on full access': { touches: (e, q) => (q.access & ~bitsOf(e.access)) === 0 },
  };
  for (const [what, m] of Object.entries(mistakes)) {
    const wrong: Semantics = { ...exact, ...m };
    const caught = Object.entries(lists).filter(([, list]) => grid(list).some((q) => reference(list, q, wrong) !== reference(list, q)));
    t.ok(caught.length > 0, `a builder that ${what}`);
  }
});

t.test('the program is the straightforward one', async (t) => {
  // Header (6), one block per exception, default (2): deny-all is 8 insns.
  t.equal(deviceProgram({ defaultAllow: false, exceptions: [] }).length, 8 * 8, 'deny all: header and default');
  t.equal(run(deviceProgram({ defaultAllow: false, exceptions: [] }), { type: 'c', major: 1, minor: 3, access: READ }), 0, 'deny all denies');
  t.equal(run(deviceProgram({ defaultAllow: true, exceptions: [] }), { type: 'c', major: 1, minor: 3, access: READ }), 1, 'allow all allows');
  // Blocks test only what the rule names: b/c *:* m are 4 insns (type,
  // access, return), c 1:3 rwm and the 7 like it 6, c 136:* rwm 5.
  t.equal(deviceProgram(lists["runc's default"]).length / 8, 6 + 2 * 4 + 8 * 6 + 5 + 2, "runc's default: 69 instructions");
  const one = deviceProgram({ defaultAllow: false, exceptions: [allow('c', 1, 3, 'rwm')] });
  const hex = one.toString('hex').match(/.{16}/g);
  t.same(hex, [
    '6112000000000000', // r2 = *(u32 *)(r1 + 0)   access_type
    'bc23000000000000', // w3 = w2
    '7403000010000000', // w3 >>= 16               access
    '54020000ffff0000', // w2 &= 0xffff            type
    '6114040000000000', // r4 = *(u32 *)(r1 + 4)   major
    '6115080000000000', // r5 = *(u32 *)(r1 + 8)   minor
    '5602050002000000', // if w2 != 2 goto +5      char
    '5604040001000000', // if w4 != 1 goto +4
    '5605030003000000', // if w5 != 3 goto +3
    '46030200f8ffffff', // if w3 & ~7 goto +2      access within rwm
    'b700000001000000', // r0 = 1
    '9500000000000000', // exit
    'b700000000000000', // r0 = 0
    '9500000000000000', // exit
  ], 'deny all but c 1:3 rwm, instruction by instruction');
});

t.test('rules outside the contract are refused', async (t) => {
  const bad: [string, DeviceAllowlist][] = [
    ['empty access', { defaultAllow: false, exceptions: [allow('c', 1, 3, '')] }],
    ['unknown access letter', { defaultAllow: false, exceptions: [allow('c', 1, 3, 'rx')] }],
    ['repeated access letter', { defaultAllow: false, exceptions: [allow('c', 1, 3, 'rr')] }],
    ['unknown type', { defaultAllow: false, exceptions: [allow('x' as 'c', 1, 3, 'r')] }],
    ['major below -1', { defaultAllow: false, exceptions: [allow('c', -2, 3, 'r')] }],
    ['fractional minor', { defaultAllow: false, exceptions: [allow('c', 1, 1.5, 'r')] }],
    ['minor above u32', { defaultAllow: false, exceptions: [allow('c', 1, 2 ** 32, 'r')] }],
    ['exception of the default polarity', { defaultAllow: false, exceptions: [deny('c', 1, 3, 'r')] }],
  ];
  for (const [what, list] of bad) t.throws(() => deviceProgram(list), RangeError, what);
  t.doesNotThrow(() => deviceProgram({ defaultAllow: false, exceptions: [allow('c', 1, 3, 'mwr')] }), 'any order of r, w, m');
});
