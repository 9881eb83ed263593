// The seccomp filter evaluator (src/plan/seccomp-evaluate.ts): filters
// compiled by the system libseccomp through the addon, asked about syscalls
// whose verdicts the profile fixes; small hand-built programs for the 32-bit
// arithmetic, the jumps and the layout of struct seccomp_data; the programs
// the kernel refuses to load; the syscall tables checked against libseccomp's.
//
// The numbers here are written out from <linux/seccomp.h>, <linux/audit.h>
// and the kernel's syscall tables rather than taken from the module under
// test, so a wrong constant there shows up as a failure here.
import t from 'tap';
import { type Native, native } from '../../src/native/addon';
import { compileSeccomp } from '../../src/plan/seccomp';
import { allows, describeVerdict, evaluateSeccomp, nativeSyscalls, syscallTable, type SeccompVerdict } from '../../src/plan/seccomp-evaluate';

// SECCOMP_RET_*, and libseccomp's SCMP_ACT_* (the same numbers).
const KILL_THREAD = 0x00000000;
const KILL_PROCESS = 0x80000000;
const TRAP = 0x00030000;
const ERRNO = 0x00050000;
const USER_NOTIF = 0x7fc00000;
const TRACE = 0x7ff00000;
const LOG = 0x7ffc0000;
const ALLOW = 0x7fff0000;
const errno = (e: number) => (ERRNO | e) >>> 0;
const EPERM = 1, ENOSYS = 38;

// libseccomp's enum scmp_compare.
const NE = 1, LT = 2, LE = 3, EQ = 4, GE = 5, GT = 6, MASKED_EQ = 7;

const AUDIT_ARCH_X86_64 = 0xc000003e;
const AUDIT_ARCH_AARCH64 = 0xc00000b7;
const AUDIT_ARCH_I386 = 0x40000003;

// x86_64 (arch/x86/entry/syscalls/syscall_64.tbl) numbers used directly.
const X64 = { read: 0, write: 1, close: 3, mmap: 9, getpid: 39, execve: 59, chdir: 80, personality: 135, exit_group: 231 };

interface Rule {
  syscall: string;
  action: number;
  args?: { index: number; op: number; value: bigint; valueTwo?: bigint }[];
}

/** The addon's compile, started and waited for. */
const libseccomp = (filter: Parameters<Native['startSeccompCompile']>[0]) => native().seccompCompiled(native().startSeccompCompile(filter));

/** A filter compiled by libseccomp, with the argument src/plan/seccomp.ts builds. */
function compile(defaultAction: number, rules: Rule[], architectures: string[] = []): Buffer {
  const { bpf, unknown } = libseccomp({
    defaultAction,
    architectures,
    rules: rules.map((r) => ({ syscall: r.syscall, action: r.action, args: (r.args ?? []).map((a) => ({ ...a, valueTwo: a.valueTwo ?? 0n })) })),
  });
  if (unknown.length) throw new Error(`libseccomp does not know ${unknown.join(' ')}`);
  return bpf;
}

const x64 = (nr: number, args?: bigint[]) => ({ nr, arch: AUDIT_ARCH_X86_64, args });
const v = (action: number, data = 0): SeccompVerdict => ({ action, data });

// The compiled filters are for x86_64 numbers; libseccomp builds them for the
// native architecture, so they are checked on x86_64 only.
const onX64 = { skip: process.arch === 'x64' ? false : 'needs an x86_64 host (the filters are compiled for the native architecture)' };

t.test('default ERRNO(EPERM), an allowlist', onX64, async (t) => {
  const listed = ['execve', 'exit_group', 'write', 'read', 'close'];
  const bpf = compile(errno(EPERM), listed.map((syscall) => ({ syscall, action: ALLOW })));
  for (const name of listed) {
    const verdict = evaluateSeccomp(bpf, x64(X64[name as keyof typeof X64]));
    t.same(verdict, v(ALLOW), `${name} is allowed`);
    t.ok(allows(verdict), `${name}: allows()`);
  }
  for (const name of ['getpid', 'chdir', 'mmap'] as const) {
    const verdict = evaluateSeccomp(bpf, x64(X64[name]));
    t.same(verdict, v(ERRNO, EPERM), `${name}, not listed, gets ERRNO(EPERM)`);
    t.notOk(allows(verdict), `${name}: not allowed`);
  }
  t.same(evaluateSeccomp(bpf, x64(X64.execve, [0xffffffffffffffffn, 1n, 2n, 3n, 4n, 5n])), v(ALLOW), 'arguments do not matter to a rule without conditions');

  const noExecve = compile(errno(EPERM), ['exit_group', 'write'].map((syscall) => ({ syscall, action: ALLOW })));
  t.same(evaluateSeccomp(noExecve, x64(X64.execve)), v(ERRNO, EPERM), 'execve not listed: ERRNO(EPERM)');
  t.notOk(allows(evaluateSeccomp(noExecve, x64(X64.execve))));
  t.same(evaluateSeccomp(noExecve, x64(X64.write)), v(ALLOW), 'write still allowed');

  const enosys = compile(errno(ENOSYS), [{ syscall: 'write', action: ALLOW }]);
  t.same(evaluateSeccomp(enosys, x64(X64.execve)), v(ERRNO, ENOSYS), 'the errno is the default action\'s');
});

t.test('default KILL_PROCESS, and KILL_THREAD', onX64, async (t) => {
  const bpf = compile(KILL_PROCESS, ['execve', 'write'].map((syscall) => ({ syscall, action: ALLOW })));
  t.same(evaluateSeccomp(bpf, x64(X64.execve)), v(ALLOW));
  t.same(evaluateSeccomp(bpf, x64(X64.getpid)), v(KILL_PROCESS), 'unlisted: KILL_PROCESS');
  t.notOk(allows(evaluateSeccomp(bpf, x64(X64.getpid))));
  const thread = compile(KILL_THREAD, [{ syscall: 'write', action: ALLOW }]);
  t.same(evaluateSeccomp(thread, x64(X64.execve)), v(KILL_THREAD), 'unlisted: KILL_THREAD (0)');
  t.same(evaluateSeccomp(thread, x64(X64.write)), v(ALLOW));
});

t.test('default ALLOW, execve denied', onX64, async (t) => {
  const eperm = compile(ALLOW, [{ syscall: 'execve', action: errno(EPERM) }]);
  t.same(evaluateSeccomp(eperm, x64(X64.execve)), v(ERRNO, EPERM), 'execve: ERRNO(EPERM)');
  t.notOk(allows(evaluateSeccomp(eperm, x64(X64.execve))));
  t.same(evaluateSeccomp(eperm, x64(X64.write)), v(ALLOW), 'write: the default');
  t.same(evaluateSeccomp(eperm, x64(X64.execve + 1)), v(ALLOW), 'the next number (exit) is not execve');

  const kill = compile(ALLOW, [{ syscall: 'execve', action: KILL_PROCESS }]);
  t.same(evaluateSeccomp(kill, x64(X64.execve)), v(KILL_PROCESS), 'execve: KILL_PROCESS');
  t.same(evaluateSeccomp(kill, x64(X64.exit_group)), v(ALLOW));

  const several = compile(ALLOW, [
    { syscall: 'execve', action: TRAP },
    { syscall: 'chdir', action: (TRACE | 7) >>> 0 },
    { syscall: 'getpid', action: LOG },
    { syscall: 'read', action: errno(ENOSYS) },
  ]);
  t.same(evaluateSeccomp(several, x64(X64.execve)), v(TRAP), 'TRAP');
  t.same(evaluateSeccomp(several, x64(X64.chdir)), v(TRACE, 7), 'TRACE keeps its data');
  t.same(evaluateSeccomp(several, x64(X64.getpid)), v(LOG), 'LOG');
  t.ok(allows(evaluateSeccomp(several, x64(X64.getpid))), 'LOG lets the syscall run');
  t.notOk(allows(evaluateSeccomp(several, x64(X64.chdir))), 'TRACE without a tracer does not');
  t.same(evaluateSeccomp(several, x64(X64.read)), v(ERRNO, ENOSYS));
});

t.test('conditions on arguments', onX64, async (t) => {
  // personality(0) allowed, anything else EPERM (as Docker's default profile).
  const bpf = compile(errno(EPERM), [
    { syscall: 'personality', action: ALLOW, args: [{ index: 0, op: EQ, value: 0n }] },
    { syscall: 'write', action: ALLOW },
  ]);
  const personality = (...args: bigint[]) => evaluateSeccomp(bpf, x64(X64.personality, args));
  t.same(personality(0n), v(ALLOW), 'personality(0)');
  t.same(personality(), v(ALLOW), 'no arguments given: all 0');
  t.same(personality(8n), v(ERRNO, EPERM), 'personality(8)');
  t.same(personality(0x100000000n), v(ERRNO, EPERM), 'the high half of arg0 counts (its low half is 0)');
  t.same(personality(0xffffffff00000000n), v(ERRNO, EPERM), 'high half all ones');
  t.same(personality(0n, 8n, 8n, 8n, 8n, 8n), v(ALLOW), 'other arguments do not count');
  t.same(personality(-1n), v(ERRNO, EPERM), 'a negative argument is its 64-bit two\'s complement');
  t.same(evaluateSeccomp(bpf, x64(X64.chdir, [0n])), v(ERRNO, EPERM), 'the condition is personality\'s only');

  // 64-bit comparisons, where the halves disagree: a wrong half or a signed
  // comparison gets one of these wrong.
  const big = 0x100000000n;
  const cmp = (op: number, value: bigint, valueTwo = 0n) =>
    compile(ALLOW, [{ syscall: 'mmap', action: errno(9), args: [{ index: 1, op, value, valueTwo }] }]);
  const matches = (bpf: Buffer, arg1: bigint) => {
    const r = evaluateSeccomp(bpf, x64(X64.mmap, [0n, arg1, 0n, 0n, 0n, 0n]));
    if (r.action === ERRNO && r.data === 9) return true;
    if (r.action === ALLOW) return false;
    throw new Error(`unexpected verdict ${describeVerdict(r)}`);
  };
  const table: [string, Buffer, [bigint, boolean][]][] = [
    ['GT 2^32', cmp(GT, big), [[big + 1n, true], [big, false], [0xffffffffn, false], [2n * big, true], [0xffffffffffffffffn, true]]],
    ['GE 2^32', cmp(GE, big), [[big, true], [0xffffffffn, false], [big - 1n + big, true], [0n, false]]],
    ['LT 2^32', cmp(LT, big), [[0xffffffffn, true], [big, false], [big + 1n, false], [0n, true]]],
    ['LE 2^32+1', cmp(LE, big + 1n), [[big + 1n, true], [big + 2n, false], [0x1ffffffffn, false], [7n, true]]],
    ['NE 5', cmp(NE, 5n), [[5n, false], [big + 5n, true], [6n, true]]],
    ['EQ 2^32+5', cmp(EQ, big + 5n), [[big + 5n, true], [5n, false], [big, false]]],
    ['MASKED_EQ 0xff00000000ff == 0x120000000034', cmp(MASKED_EQ, 0xff00000000ffn, 0x120000000034n), [[0x120000000034n, true], [0x12abffffff34n, true], [0xab12ffffff34n, false], [0x120000000035n, false], [0x130000000034n, false], [0x34n, false]]],
  ];
  for (const [name, bpf, cases] of table) {
    for (const [arg, expected] of cases) t.equal(matches(bpf, arg), expected, `${name}: arg1 = 0x${arg.toString(16)}`);
  }

  // Two conditions on distinct arguments: both must hold.
  const both = compile(ALLOW, [{ syscall: 'mmap', action: errno(9), args: [{ index: 0, op: EQ, value: 1n }, { index: 5, op: EQ, value: 2n }] }]);
  const mmap = (args: bigint[]) => evaluateSeccomp(both, x64(X64.mmap, args));
  t.same(mmap([1n, 0n, 0n, 0n, 0n, 2n]), v(ERRNO, 9), 'arg0 = 1 and arg5 = 2');
  t.same(mmap([1n, 0n, 0n, 0n, 2n, 0n]), v(ALLOW), 'arg4, not arg5');
  t.same(mmap([0n, 1n, 0n, 0n, 0n, 2n]), v(ALLOW), 'arg1, not arg0');
});

t.test('architectures', onX64, async (t) => {
  const bpf = compile(errno(EPERM), [{ syscall: 'execve', action: ALLOW }]);
  const badArch = v(KILL_THREAD); // libseccomp's default SCMP_FLTATR_ACT_BADARCH
  t.same(evaluateSeccomp(bpf, { nr: X64.execve, arch: AUDIT_ARCH_AARCH64 }), badArch, 'another architecture gets the bad-arch action');
  t.same(evaluateSeccomp(bpf, { nr: 11, arch: AUDIT_ARCH_I386 }), badArch, 'i386 is not in the filter');
  t.same(evaluateSeccomp(bpf, { nr: 0x40000000 + 520, arch: AUDIT_ARCH_X86_64 }), badArch, 'an x32 syscall (nr >= 0x40000000) is refused as a bad architecture');
  t.same(evaluateSeccomp(bpf, x64(X64.execve)), v(ALLOW));

  // With i386 and aarch64 added, each architecture has its own numbers.
  const multi = compile(errno(EPERM), [{ syscall: 'execve', action: ALLOW }], ['x86', 'aarch64']);
  t.same(evaluateSeccomp(multi, { nr: 11, arch: AUDIT_ARCH_I386 }), v(ALLOW), 'i386 execve is 11');
  t.same(evaluateSeccomp(multi, { nr: 59, arch: AUDIT_ARCH_I386 }), v(ERRNO, EPERM), '59 is not execve on i386');
  t.same(evaluateSeccomp(multi, { nr: 221, arch: AUDIT_ARCH_AARCH64 }), v(ALLOW), 'aarch64 execve is 221');
  t.same(evaluateSeccomp(multi, { nr: 59, arch: AUDIT_ARCH_AARCH64 }), v(ERRNO, EPERM), '59 is not execve on aarch64');
  t.same(evaluateSeccomp(multi, x64(X64.execve)), v(ALLOW), 'x86_64 execve');
  t.same(evaluateSeccomp(multi, { nr: 3, arch: 0xc00000f3 }), badArch, 'riscv64 is not in the filter');
});

t.test('through compileSeccomp (the config\'s names)', onX64, async (t) => {
  const { bpf } = compileSeccomp({
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: ENOSYS,
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [
      { names: ['execve', 'write'], action: 'SCMP_ACT_ALLOW' },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 0 }] },
      { names: ['getpid'], action: 'SCMP_ACT_KILL_PROCESS' },
    ],
  });
  t.same(evaluateSeccomp(bpf, x64(X64.execve)), v(ALLOW));
  t.same(evaluateSeccomp(bpf, x64(X64.chdir)), v(ERRNO, ENOSYS), 'defaultErrnoRet');
  t.same(evaluateSeccomp(bpf, x64(X64.personality, [0n])), v(ALLOW));
  t.same(evaluateSeccomp(bpf, x64(X64.personality, [1n])), v(ERRNO, ENOSYS));
  t.same(evaluateSeccomp(bpf, x64(X64.getpid)), v(KILL_PROCESS));
});

t.test('syscall tables, checked against libseccomp', async (t) => {
  const required = ['execve', 'exit_group', 'exit', 'write', 'writev', 'read', 'close', 'fcntl', 'chdir', 'getcwd', 'umask', 'prctl', 'capget', 'capset', 'setgroups', 'setresuid', 'setresgid', 'newfstatat', 'openat', 'close_range', 'getpid', 'rt_sigreturn', 'futex', 'clone', 'clone3', 'wait4', 'pipe2', 'memfd_create', 'dup3', 'mmap', 'munmap', 'brk'];
  const tables = [
    { node: 'x64', lib: 'x86_64', audit: AUDIT_ARCH_X86_64, also: ['stat'], absent: [] as string[] },
    { node: 'arm64', lib: 'aarch64', audit: AUDIT_ARCH_AARCH64, also: [], absent: ['stat', 'open', 'fork'] },
  ];
  for (const tab of tables) {
    const table = syscallTable(tab.node);
    if (!table) throw new Error(`no table for ${tab.node}`);
    t.equal(table.arch, tab.audit, `${tab.node}: AUDIT_ARCH`);
    for (const name of [...required, ...tab.also]) t.type(table.nr[name], 'number', `${tab.node} has ${name}`);
    for (const name of tab.absent) t.equal(table.nr[name], undefined, `${tab.node} has no ${name}`);
    // Each syscall gets its own errno from a filter for that architecture:
    // the table's number must lead to exactly that rule.
    const names = Object.keys(table.nr);
    const { bpf, unknown } = libseccomp({
      defaultAction: ALLOW,
      architectures: [tab.lib],
      rules: names.map((syscall, i) => ({ syscall, action: errno(100 + i), args: [] })),
    });
    t.same(unknown, [], 'libseccomp knows every name');
    names.forEach((name, i) => {
      t.same(evaluateSeccomp(bpf, { nr: table.nr[name], arch: tab.audit }), v(ERRNO, 100 + i), `${tab.lib} ${name} = ${table.nr[name]}`);
    });
  }
  t.equal(syscallTable('riscv64'), undefined, 'no table elsewhere');
  t.equal(syscallTable('ia32'), undefined);
  if (process.arch === 'x64') {
    t.equal(nativeSyscalls?.arch, AUDIT_ARCH_X86_64, 'native: x86_64');
    t.equal(nativeSyscalls?.nr.execve, 59);
    t.equal(nativeSyscalls?.nr.stat, 4);
  } else if (process.arch === 'arm64') {
    t.equal(nativeSyscalls?.arch, AUDIT_ARCH_AARCH64, 'native: aarch64');
    t.equal(nativeSyscalls?.nr.execve, 221);
  } else t.equal(nativeSyscalls, undefined);
});

// --- hand-built programs ----------------------------------------------------

type Insn = [code: number, jt: number, jf: number, k: number];
function prog(...insns: Insn[]): Buffer {
  const b = Buffer.alloc(insns.length * 8);
  insns.forEach(([code, jt, jf, k], i) => {
    b.writeUInt16LE(code, i * 8);
    b[i * 8 + 2] = jt;
    b[i * 8 + 3] = jf;
    b.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return b;
}
// Opcodes, written out (<linux/bpf_common.h>, <linux/filter.h>).
const ldAbs = (k: number): Insn => [0x20, 0, 0, k];
const ldImm = (k: number): Insn => [0x00, 0, 0, k];
const ldxImm = (k: number): Insn => [0x01, 0, 0, k];
const ldLen: Insn = [0x80, 0, 0, 0];
const ldxLen: Insn = [0x81, 0, 0, 0];
const ldMem = (k: number): Insn => [0x60, 0, 0, k];
const ldxMem = (k: number): Insn => [0x61, 0, 0, k];
const st = (k: number): Insn => [0x02, 0, 0, k];
const stx = (k: number): Insn => [0x03, 0, 0, k];
const tax: Insn = [0x07, 0, 0, 0];
const txa: Insn = [0x87, 0, 0, 0];
const aluOps = { add: 0x00, sub: 0x10, mul: 0x20, div: 0x30, or: 0x40, and: 0x50, lsh: 0x60, rsh: 0x70, xor: 0xa0 };
const aluK = (op: keyof typeof aluOps, k: number): Insn => [0x04 | aluOps[op], 0, 0, k];
const aluX = (op: keyof typeof aluOps): Insn => [0x04 | aluOps[op] | 0x08, 0, 0, 0];
const neg: Insn = [0x84, 0, 0, 0];
const jmpOps = { jeq: 0x10, jgt: 0x20, jge: 0x30, jset: 0x40 };
const jK = (op: keyof typeof jmpOps, k: number, jt: number, jf: number): Insn => [0x05 | jmpOps[op], jt, jf, k];
const jX = (op: keyof typeof jmpOps, jt: number, jf: number): Insn => [0x05 | jmpOps[op] | 0x08, jt, jf, 0];
const ja = (k: number): Insn => [0x05, 0, 0, k];
const retK = (k: number): Insn => [0x06, 0, 0, k];
const retA: Insn = [0x16, 0, 0, 0];

/** The whole 32-bit return value. */
const run = (p: Buffer, req: { nr: number; arch: number; args?: bigint[]; ip?: bigint } = { nr: 0, arch: 0 }) => {
  const r = evaluateSeccomp(p, req);
  return (r.action | r.data) >>> 0;
};
/** A computed by `insns` from A = a (and X = x), returned whole. */
const compute = (a: number, x: number, ...insns: Insn[]) => run(prog(ldImm(a), ldxImm(x), ...insns, retA));

t.test('32-bit arithmetic, unsigned and wrapping', async (t) => {
  t.equal(compute(0xffffffff, 0, aluK('add', 2)), 1, 'add wraps');
  t.equal(compute(0xfffffff0, 0x20, aluX('add')), 0x10, 'add X wraps');
  t.equal(compute(0, 0, aluK('sub', 1)), 0xffffffff, 'sub wraps to 0xffffffff');
  t.equal(compute(5, 7, aluX('sub')), 0xfffffffe, 'sub X');
  t.equal(compute(0xffffffff, 0, aluK('mul', 0xffffffff)), 1, 'mul keeps the exact low 32 bits (not a rounded double)');
  t.equal(compute(0x10001, 0x10001, aluX('mul')), 0x20001, 'mul X');
  t.equal(compute(0x12345678, 0, aluK('mul', 0x9abcdef1)), Number((0x12345678n * 0x9abcdef1n) & 0xffffffffn), 'mul, large');
  t.equal(compute(0xffffffff, 0, aluK('div', 2)), 0x7fffffff, 'div is unsigned');
  t.equal(compute(7, 2, aluX('div')), 3, 'div X truncates');
  t.equal(compute(0x80000000, 0, aluK('div', 0x80000001)), 0, 'div, divisor above the dividend');
  t.equal(compute(1, 0, neg), 0xffffffff, 'neg 1');
  t.equal(compute(0x80000000, 0, neg), 0x80000000, 'neg of 2^31');
  t.equal(compute(0, 0, neg), 0, 'neg 0');
  t.equal(compute(1, 0, aluK('lsh', 31)), 0x80000000, 'lsh into the sign bit stays unsigned');
  t.equal(compute(0xffffffff, 0, aluK('lsh', 4)), 0xfffffff0, 'lsh drops high bits');
  t.equal(compute(0x80000000, 0, aluK('rsh', 31)), 1, 'rsh is logical, not arithmetic');
  t.equal(compute(0x80000000, 4, aluX('rsh')), 0x08000000, 'rsh X');
  t.equal(compute(3, 33, aluX('lsh')), 6, 'a shift by X uses its low 5 bits (33 -> 1)');
  t.equal(compute(0xf0, 36, aluX('rsh')), 0x0f, 'rsh by X = 36 shifts by 4');
  t.equal(compute(0x80000000, 1, aluX('or')), 0x80000001, 'or');
  t.equal(compute(0xf0f0f0f0, 0, aluK('or', 0x0f)), 0xf0f0f0ff, 'or K');
  t.equal(compute(0xffffffff, 0, aluK('and', 0x80000001)), 0x80000001, 'and K with the sign bit');
  t.equal(compute(0xff00ff00, 0x0ff00ff0, aluX('and')), 0x0f000f00, 'and X');
  t.equal(compute(0xffffffff, 0, aluK('xor', 0x80000000)), 0x7fffffff, 'xor K');
  t.equal(compute(0xaaaa5555, 0xffff0000, aluX('xor')), 0x55555555, 'xor X');
  // Results with the high bit set compare as unsigned values in later jumps.
  const isAllOnes = (...insns: Insn[]) => run(prog(...insns, jK('jeq', 0xffffffff, 1, 0), retK(2), retK(1))) === 1;
  t.ok(isAllOnes(ldImm(1), neg), 'neg 1, then jeq 0xffffffff');
  t.ok(isAllOnes(ldImm(0), aluK('sub', 1)), 'sub, then jeq');
  t.ok(isAllOnes(ldImm(0x7fffffff), aluK('lsh', 1), aluK('or', 1)), 'lsh and or, then jeq');
  t.ok(isAllOnes(ldImm(0x0000ffff), aluK('xor', 0xffff0000)), 'xor, then jeq');
  t.ok(isAllOnes(ldImm(0xffff), aluK('mul', 0x10001)), 'mul, then jeq');
  t.notOk(isAllOnes(ldImm(2), neg), 'neg 2 is not all ones');
  t.equal(run(prog(ldImm(1), aluK('lsh', 31), jK('jgt', 0x7fffffff, 1, 0), retK(2), retK(1))), 1, 'lsh 31, then jgt 0x7fffffff');
  t.equal(run(prog(ldImm(1), ldxImm(31), aluX('lsh'), jK('jeq', 0x80000000, 1, 0), retK(2), retK(1))), 1, 'lsh X 31, then jeq 0x80000000');
  // Division by a zero X ends the program returning 0 (KILL_THREAD).
  t.same(evaluateSeccomp(prog(ldImm(10), ldxImm(0), aluX('div'), retK(ALLOW)), { nr: 0, arch: 0 }), v(KILL_THREAD), 'div by X = 0 returns 0');
  t.same(evaluateSeccomp(prog(ldImm(10), ldxImm(2), aluX('div'), retK(ALLOW)), { nr: 0, arch: 0 }), v(ALLOW), 'div by X = 2 goes on');
});

t.test('registers and scratch memory', async (t) => {
  t.equal(run(prog(retA)), 0, 'A starts at 0');
  t.equal(run(prog(txa, retA)), 0, 'X starts at 0');
  t.equal(compute(0, 0x1234, txa), 0x1234, 'txa');
  t.equal(run(prog(ldImm(0x77), tax, ldImm(0), txa, retA)), 0x77, 'tax');
  t.equal(run(prog(ldImm(5), st(3), ldImm(9), st(15), ldImm(0), ldMem(3), retA)), 5, 'st / ld mem');
  t.equal(run(prog(ldImm(5), st(0), ldImm(9), st(15), ldMem(15), retA)), 9, 'slot 15');
  t.equal(run(prog(ldxImm(0xabcd), stx(7), ldxImm(0), ldxMem(7), txa, retA)), 0xabcd, 'stx / ldx mem');
  t.equal(run(prog(ldLen, retA)), 64, 'ld len is sizeof(struct seccomp_data)');
  t.equal(run(prog(ldxLen, txa, retA)), 64, 'ldx len');
  t.equal(run(prog(ldImm(0x7fff0001), retA)), 0x7fff0001, 'ret A returns the whole value');
  t.same(evaluateSeccomp(prog(ldImm(0x7fff0001), retA), { nr: 0, arch: 0 }), v(ALLOW, 1), 'split into action and data');
  t.same(evaluateSeccomp(prog(retK(0x80000005)), { nr: 0, arch: 0 }), v(KILL_PROCESS, 5), 'the high bit is part of the action');
});

t.test('struct seccomp_data', async (t) => {
  const args = [0x1111111122222222n, 0x3333333344444444n, 0x5555555566666666n, 0x7777777788888888n, 0x99999999aaaaaaaan, 0xbbbbbbbbccccccccn];
  const req = { nr: 59, arch: AUDIT_ARCH_X86_64, args, ip: 0xdddddddd0eeeeeeen };
  const at = (off: number) => run(prog(ldAbs(off), retA), req);
  t.equal(at(0), 59, 'nr at 0');
  t.equal(at(4), AUDIT_ARCH_X86_64, 'arch at 4');
  t.equal(at(8), 0x0eeeeeee, 'instruction_pointer, low half at 8');
  t.equal(at(12), 0xdddddddd, 'instruction_pointer, high half at 12');
  args.forEach((a, i) => {
    t.equal(at(16 + 8 * i), Number(a & 0xffffffffn), `args[${i}] low half at ${16 + 8 * i}`);
    t.equal(at(20 + 8 * i), Number(a >> 32n), `args[${i}] high half at ${20 + 8 * i}`);
  });
  t.equal(run(prog(ldAbs(0), retA), { nr: -1, arch: 0 }), 0xffffffff, 'nr -1 is 0xffffffff');
  t.equal(run(prog(ldAbs(20), retA), { nr: 0, arch: 0, args: [-2n] }), 0xffffffff, 'a negative argument, high half');
  t.equal(run(prog(ldAbs(16), retA), { nr: 0, arch: 0, args: [-2n] }), 0xfffffffe, 'a negative argument, low half');
  t.equal(run(prog(ldAbs(60), retA), { nr: 0, arch: 0, args: [1n] }), 0, 'missing arguments are 0');
  t.throws(() => evaluateSeccomp(prog(retA), { nr: 0, arch: 0, args: [0n, 0n, 0n, 0n, 0n, 0n, 0n] }), /at most 6/, 'seven arguments');
  t.throws(() => evaluateSeccomp(prog(retA), { nr: 1.5, arch: 0 }), /not an integer/);
});

t.test('jumps', async (t) => {
  // A two-way test: jt leads to RET 1, jf to RET 2.
  const test = (a: number, x: number, j: Insn) => run(prog(ldImm(a), ldxImm(x), j, retK(2), retK(1)));
  const twoWay = (op: keyof typeof jmpOps, k: number): Insn => jK(op, k, 1, 0);
  t.equal(test(5, 0, twoWay('jeq', 5)), 1, 'jeq true takes jt');
  t.equal(test(6, 0, twoWay('jeq', 5)), 2, 'jeq false takes jf');
  t.equal(test(0x80000000, 0, twoWay('jeq', 0x80000000)), 1, 'jeq with the high bit');
  t.equal(test(0x80000000, 0, twoWay('jgt', 1)), 1, 'jgt is unsigned (2^31 > 1)');
  t.equal(test(1, 0, twoWay('jgt', 0xffffffff)), 2, 'jgt: 1 > 0xffffffff is false');
  t.equal(test(5, 0, twoWay('jgt', 5)), 2, 'jgt: equal is not greater');
  t.equal(test(5, 0, twoWay('jge', 5)), 1, 'jge: equal');
  t.equal(test(4, 0, twoWay('jge', 5)), 2, 'jge: less');
  t.equal(test(0xffffffff, 0, twoWay('jge', 0x80000000)), 1, 'jge unsigned');
  t.equal(test(0x80000010, 0, twoWay('jset', 0x80000000)), 1, 'jset, the high bit');
  t.equal(test(0x10, 0, twoWay('jset', 0x0f)), 2, 'jset, no common bit');
  t.equal(test(7, 7, jX('jeq', 1, 0)), 1, 'jeq X');
  t.equal(test(7, 8, jX('jeq', 1, 0)), 2, 'jeq X false');
  t.equal(test(0x80000000, 0x7fffffff, jX('jgt', 1, 0)), 1, 'jgt X unsigned');
  t.equal(test(3, 3, jX('jge', 1, 0)), 1, 'jge X');
  t.equal(test(3, 4, jX('jge', 1, 0)), 2, 'jge X false');
  t.equal(test(6, 2, jX('jset', 1, 0)), 1, 'jset X');
  t.equal(test(6, 1, jX('jset', 1, 0)), 2, 'jset X false');
  // The same with the branches the other way round.
  t.equal(run(prog(ldImm(5), jK('jeq', 5, 0, 1), retK(1), retK(2))), 1, 'jt 0 falls through');
  t.equal(run(prog(ldImm(6), jK('jeq', 5, 0, 1), retK(1), retK(2))), 2, 'jf 1 skips one');
  // Offsets count from the next instruction.
  const far = prog(ldImm(1), jK('jeq', 1, 3, 1), retK(10), retK(11), retK(12), retK(13), retK(14));
  t.equal(run(far), 13, 'jt 3 lands on the fourth instruction after');
  t.equal(run(prog(ldImm(0), jK('jeq', 1, 3, 1), retK(10), retK(11), retK(12), retK(13))), 11, 'jf 1');
  t.equal(run(prog(ja(2), retK(10), retK(11), retK(12))), 12, 'ja 2');
  t.equal(run(prog(ja(0), retK(10), retK(11))), 10, 'ja 0 is the next instruction');
  t.equal(run(prog(ldImm(1), jK('jeq', 1, 255, 255), ...Array.from({ length: 255 }, (_, i) => retK(i)), retK(999))), 999, 'the longest conditional jump (255)');
});

t.test('programs the kernel refuses', async (t) => {
  const refused = (p: Buffer, why: RegExp, name: string) => t.throws(() => evaluateSeccomp(p, { nr: 0, arch: 0 }), why, name);
  refused(Buffer.alloc(0), /not a whole, non-empty/, 'empty');
  refused(Buffer.concat([prog(retK(ALLOW)), Buffer.alloc(3)]), /not a whole/, 'a partial instruction');
  refused(prog(...Array.from({ length: 4097 }, () => retK(ALLOW))), /4097 instructions/, 'more than 4096 instructions');
  t.equal(run(prog(...Array.from({ length: 4095 }, () => ldImm(1)), retK(7))), 7, '4096 instructions are fine');
  // Opcodes outside seccomp's list.
  for (const [code, name] of [
    [0x28, 'ld half word abs'],
    [0x30, 'ld byte abs'],
    [0x40, 'ld ind'],
    [0x21, 'ldx abs'],
    [0xb1, 'ldx msh'],
    [0x94, 'alu mod K'],
    [0x9c, 'alu mod X'],
    [0x0e, 'ret X'],
    [0xa5, 'an undefined jump'],
    [0x27, 'misc other than tax/txa'],
    [0x06 | 0x100, 'code with high bits'],
  ] as [number, string][]) {
    refused(prog([code, 0, 0, 4], retK(ALLOW)), /opcode seccomp does not accept/, name);
  }
  refused(prog(retK(ALLOW), [0x28, 0, 0, 0], retK(ALLOW)), /opcode/, 'even where it is never reached');
  refused(prog(ldAbs(64), retA), /outside struct seccomp_data/, 'a load at 64');
  refused(prog(ldAbs(2), retA), /not 4-byte aligned/, 'an unaligned load');
  t.equal(run(prog(ldAbs(60), retA)), 0, 'a load at 60 is fine');
  refused(prog(aluK('div', 0), retA), /division by the constant 0/, 'div #0');
  refused(prog(aluK('lsh', 32), retA), /shift by 32/, 'lsh #32');
  refused(prog(aluK('rsh', 32), retA), /shift by 32/, 'rsh #32');
  t.equal(compute(0xffffffff, 0, aluK('rsh', 31)), 1, 'rsh #31 is fine');
  refused(prog(st(16), retA), /16 words/, 'st 16');
  refused(prog(ldImm(0), st(0), ldMem(16), retA), /16 words/, 'ld mem 16');
  refused(prog(ja(1), retA), /past the end/, 'ja past the end');
  refused(prog(ja(0xffffffff), retA, retA), /past the end/, 'ja by 2^32 - 1');
  refused(prog(jK('jeq', 0, 1, 0), retA), /past the end/, 'jt past the end');
  refused(prog(jK('jeq', 0, 0, 1), retA), /past the end/, 'jf past the end');
  refused(prog(ldImm(1)), /does not end with a return/, 'no return at the end');
  refused(prog(ldImm(1), jK('jeq', 1, 0, 0), ldImm(2)), /does not end with a return/, 'a jump to the last instruction, not a return');
  refused(prog(ldMem(0), retA), /read before it is written/, 'memory read before any store');
  refused(prog(ldxImm(0), ldxMem(1), retA), /read before it is written/, 'ldx mem too');
  // Written on one path only: jt skips the store.
  refused(prog(ldImm(1), jK('jeq', 1, 1, 0), st(4), ldMem(4), retA), /word 4 may be read/, 'stored on one path only');
  refused(prog(ja(1), st(4), ldMem(4), retA), /word 4 may be read/, 'a ja over the store');
  t.equal(run(prog(ldImm(3), st(4), jK('jeq', 1, 1, 0), ldImm(5), ldMem(4), retA)), 3, 'stored before the branch: fine');
  t.equal(run(prog(ldImm(1), jK('jeq', 1, 2, 0), st(4), ja(1), st(4), ldMem(4), retA)), 1, 'stored on both paths: fine');
});

t.test('allows and describeVerdict', async (t) => {
  t.ok(allows(v(ALLOW)), 'ALLOW');
  t.ok(allows(v(LOG)), 'LOG');
  t.ok(allows(v(ALLOW, 3)), 'ALLOW whatever the data');
  for (const [action, name] of [
    [KILL_THREAD, 'KILL_THREAD'],
    [KILL_PROCESS, 'KILL_PROCESS'],
    [TRAP, 'TRAP'],
    [ERRNO, 'ERRNO'],
    [TRACE, 'TRACE'],
    [USER_NOTIF, 'USER_NOTIF'],
    [0x7ffe0000, 'an unknown action'],
  ] as [number, string][]) {
    t.notOk(allows(v(action)), `${name} does not allow`);
  }
  t.equal(describeVerdict(v(ERRNO, 1)), 'SCMP_ACT_ERRNO(1)');
  t.equal(describeVerdict(v(KILL_PROCESS)), 'SCMP_ACT_KILL_PROCESS');
  t.equal(describeVerdict(v(KILL_THREAD)), 'SCMP_ACT_KILL_THREAD');
  t.equal(describeVerdict(v(TRACE, 4)), 'SCMP_ACT_TRACE(4)');
  t.equal(describeVerdict(v(USER_NOTIF)), 'SCMP_ACT_NOTIFY');
  t.equal(describeVerdict(v(LOG)), 'SCMP_ACT_LOG');
  t.match(describeVerdict(v(0x7ffe0000)), /unknown action 0x7ffe0000/);
});
