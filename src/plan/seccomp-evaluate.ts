// What a compiled seccomp filter (src/plan/seccomp.ts) does to one syscall,
// worked out at create time by running the classic BPF program here, as the
// kernel would run it on the syscall's struct seccomp_data. tsrun uses this to
// refuse a profile that blocks a syscall tsrun-init must still make after the
// filter is loaded (execve above all), and to name that syscall.
//
// Only what the kernel's seccomp accepts is run: the generic classic-BPF
// checks (net/core/filter.c bpf_check_classic: program length, jump targets,
// constant divisors and shifts, scratch memory written before it is read, a
// return at the end) and seccomp's own (kernel/seccomp.c seccomp_check_filter:
// an allowlist of opcodes; 32-bit loads only, aligned and inside
// seccomp_data). Anything else is refused with an error naming the
// instruction, so a program that runs here is one the kernel would load.
//
// The data is laid out little endian, as on x86_64 and aarch64, the
// architectures tsrun runs on.

/** SECCOMP_RET_* of <linux/seccomp.h>: the action half of a filter's return value. */
export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

/**
 * What a seccomp filter returns for one syscall: the SECCOMP_RET_* action
 * (the high 16 bits of the return value, SECCOMP_RET_ACTION_FULL, as an
 * unsigned number: 0x7fff0000 ALLOW, 0x80000000 KILL_PROCESS, ...) and the
 * data (the low 16 bits: the errno of ERRNO, the value of TRAP or TRACE).
 */
export interface SeccompVerdict {
  action: number;
  data: number;
}

/** The syscall a filter is asked about. `args` (at most 6, missing ones are 0) and `ip` are taken modulo 2^64. */
export interface SeccompRequest {
  nr: number;
  arch: number;
  args?: bigint[];
  ip?: bigint;
}

// Classic BPF encoding (<linux/bpf_common.h>, <linux/filter.h>).
const LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
const W = 0x00;
const IMM = 0x00, ABS = 0x20, MEM = 0x60, LEN = 0x80;
const ADD = 0x00, SUB = 0x10, MUL = 0x20, DIV = 0x30, OR = 0x40, AND = 0x50, LSH = 0x60, RSH = 0x70, NEG = 0x80, XOR = 0xa0;
const JA = 0x00, JEQ = 0x10, JGT = 0x20, JGE = 0x30, JSET = 0x40;
const K = 0x00, X = 0x08, A = 0x10; // BPF_SRC, and BPF_RVAL's BPF_A
const TAX = 0x00, TXA = 0x80;

const MAXINSNS = 4096; // BPF_MAXINSNS
const MEMWORDS = 16; // BPF_MEMWORDS
const SECCOMP_DATA_SIZE = 64; // sizeof(struct seccomp_data)

// Every opcode seccomp_check_filter lets through (BPF_LD|W|ABS with a valid
// offset and the two BPF_LEN loads, which it rewrites, included).
const accepted = new Set<number>([
  LD | W | ABS,
  LD | W | LEN,
  LDX | W | LEN,
  RET | K,
  RET | A,
  ...[ADD, SUB, MUL, DIV, AND, OR, XOR, LSH, RSH].flatMap((op) => [ALU | op | K, ALU | op | X]),
  ALU | NEG,
  LD | IMM,
  LDX | IMM,
  MISC | TAX,
  MISC | TXA,
  LD | MEM,
  LDX | MEM,
  ST,
  STX,
  JMP | JA,
  ...[JEQ, JGE, JGT, JSET].flatMap((op) => [JMP | op | K, JMP | op | X]),
]);

/**
 * A decoded program, one typed array per field of struct sock_filter: no
 * object per instruction (a runtime's default profile has over a thousand,
 * decoded on every create with a filter, in V8's interpreter).
 */
interface Program {
  length: number;
  code: Uint16Array;
  jt: Uint8Array;
  jf: Uint8Array;
  k: Uint32Array;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function refuse(p: Program, pc: number, why: string): never {
  throw new Error(`seccomp program: instruction ${pc} (code ${hex(p.code[pc])}, jt ${p.jt[pc]}, jf ${p.jf[pc]}, k ${hex(p.k[pc])}): ${why}`);
}

function decode(program: Buffer): Program {
  if (program.length === 0 || program.length % 8 !== 0) {
    throw new Error(`seccomp program: ${program.length} bytes is not a whole, non-empty number of 8-byte instructions`);
  }
  const n = program.length / 8;
  if (n > MAXINSNS) throw new Error(`seccomp program: ${n} instructions, more than the kernel's ${MAXINSNS}`);
  const p: Program = { length: n, code: new Uint16Array(n), jt: new Uint8Array(n), jf: new Uint8Array(n), k: new Uint32Array(n) };
  for (let i = 0; i < n; i++) {
    const o = i * 8;
    // Read by hand: Buffer's readUInt*LE check their arguments on each call.
    p.code[i] = program[o] | (program[o + 1] << 8);
    p.jt[i] = program[o + 2];
    p.jf[i] = program[o + 3];
    p.k[i] = program[o + 4] | (program[o + 5] << 8) | (program[o + 6] << 16) | (program[o + 7] << 24);
  }
  return p;
}

/** Throws unless the kernel would load this program as a seccomp filter. */
function check(p: Program): void {
  const n = p.length;
  for (let pc = 0; pc < n; pc++) {
    const code = p.code[pc];
    const k = p.k[pc];
    if (!accepted.has(code)) refuse(p, pc, 'an opcode seccomp does not accept');
    if (code === (LD | W | ABS) && (k >= SECCOMP_DATA_SIZE || k % 4 !== 0)) {
      refuse(p, pc, 'a load outside struct seccomp_data or not 4-byte aligned');
    }
    if (code === (ALU | DIV | K) && k === 0) refuse(p, pc, 'division by the constant 0');
    if ((code === (ALU | LSH | K) || code === (ALU | RSH | K)) && k >= 32) refuse(p, pc, 'a shift by 32 or more');
    if ((code === (LD | MEM) || code === (LDX | MEM) || code === ST || code === STX) && k >= MEMWORDS) {
      refuse(p, pc, `scratch memory has ${MEMWORDS} words`);
    }
    if (code === (JMP | JA)) {
      if (k >= n - pc - 1) refuse(p, pc, 'a jump past the end of the program');
    } else if ((code & 0x07) === JMP) {
      if (pc + p.jt[pc] + 1 >= n || pc + p.jf[pc] + 1 >= n) refuse(p, pc, 'a jump past the end of the program');
    }
  }
  const last = p.code[n - 1];
  if (last !== (RET | K) && last !== (RET | A)) refuse(p, n - 1, 'the program does not end with a return');
  // Scratch memory must be written on every path before it is read (the
  // kernel's check_load_and_stores, which this follows step for step).
  const masks = new Uint16Array(n).fill(0xffff);
  let valid = 0;
  for (let pc = 0; pc < n; pc++) {
    valid &= masks[pc];
    const code = p.code[pc];
    const k = p.k[pc];
    if (code === ST || code === STX) valid |= 1 << k;
    else if (code === (LD | MEM) || code === (LDX | MEM)) {
      if (!(valid & (1 << k))) refuse(p, pc, `scratch word ${k} may be read before it is written`);
    } else if (code === (JMP | JA)) {
      masks[pc + 1 + k] &= valid;
      valid = 0xffff;
    } else if ((code & 0x07) === JMP) {
      masks[pc + 1 + p.jt[pc]] &= valid;
      masks[pc + 1 + p.jf[pc]] &= valid;
      valid = 0xffff;
    }
  }
}

/** struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; }, little endian. */
function seccompData(req: SeccompRequest): Buffer {
  if (!Number.isInteger(req.nr)) throw new Error(`seccomp data: syscall number ${req.nr} is not an integer`);
  if (!Number.isInteger(req.arch)) throw new Error(`seccomp data: architecture ${req.arch} is not an integer`);
  const args = req.args ?? [];
  if (args.length > 6) throw new Error(`seccomp data: ${args.length} arguments, a syscall has at most 6`);
  const data = Buffer.alloc(SECCOMP_DATA_SIZE);
  const u64 = (offset: number, v: bigint) => {
    const x = BigInt.asUintN(64, v);
    data.writeUInt32LE(Number(x & 0xffffffffn), offset); // low half first
    data.writeUInt32LE(Number(x >> 32n), offset + 4);
  };
  data.writeUInt32LE(req.nr >>> 0, 0);
  data.writeUInt32LE(req.arch >>> 0, 4);
  u64(8, req.ip ?? 0n);
  args.forEach((v, i) => u64(16 + 8 * i, v));
  return data;
}

/**
 * Runs a classic BPF seccomp program (an array of struct sock_filter: u16
 * code, u8 jt, u8 jf, u32 k, little endian) on the struct seccomp_data of
 * `req`, as the kernel would. Throws on a program the kernel would refuse to
 * load: a malformed buffer, an instruction seccomp does not accept, a jump
 * out of the program, a read of unwritten scratch memory, no final return.
 */
export function evaluateSeccomp(program: Buffer, req: SeccompRequest): SeccompVerdict {
  return seccompEvaluator(program)(req);
}

/**
 * evaluateSeccomp for one program and many requests: the program is
 * decoded and checked once (checkInitNeeds asks about each syscall
 * tsrun-init makes, on every create with a filter).
 */
export function seccompEvaluator(program: Buffer): (req: SeccompRequest) => SeccompVerdict {
  const p = decode(program);
  check(p);
  return (req) => run(p, req);
}

function run(p: Program, req: SeccompRequest): SeccompVerdict {
  const data = seccompData(req);
  const view = new DataView(data.buffer, data.byteOffset, data.length);
  // The registers start at 0 (the kernel clears A and X when it converts the
  // program); check() has made sure memory is written before it is read.
  let a = 0;
  let x = 0;
  const mem = new Uint32Array(MEMWORDS);
  let ret: number | undefined;
  // Jumps only go forward, so this ends within p.length steps.
  for (let pc = 0; ret === undefined; pc++) {
    const code = p.code[pc];
    const k = p.k[pc];
    switch (code) {
      case LD | W | ABS:
        a = view.getUint32(k, true);
        break;
      case LD | W | LEN:
        a = SECCOMP_DATA_SIZE;
        break;
      case LDX | W | LEN:
        x = SECCOMP_DATA_SIZE;
        break;
      case LD | IMM:
        a = k;
        break;
      case LDX | IMM:
        x = k;
        break;
      case LD | MEM:
        a = mem[k];
        break;
      case LDX | MEM:
        x = mem[k];
        break;
      case ST:
        mem[k] = a;
        break;
      case STX:
        mem[k] = x;
        break;
      case MISC | TAX:
        x = a;
        break;
      case MISC | TXA:
        a = x;
        break;
      case ALU | NEG:
        a = -a >>> 0;
        break;
      case RET | K:
        ret = k;
        break;
      case RET | A:
        ret = a;
        break;
      case JMP | JA:
        pc += k;
        break;
      default:
        if ((code & 0x07) === ALU) {
          const operand = code & X ? x : k;
          // Division by a zero X ends the program with 0 (the kernel's
          // conversion of classic BPF: "A = 0; return").
          if ((code & 0xf0) === DIV && operand === 0) ret = 0;
          else a = alu(code & 0xf0, a, operand);
        } else {
          // A conditional jump (check() let nothing else through).
          const operand = code & X ? x : k;
          pc += compare(code & 0xf0, a, operand) ? p.jt[pc] : p.jf[pc];
        }
    }
  }
  return { action: (ret & 0xffff0000) >>> 0, data: ret & 0xffff };
}

/** A op operand on unsigned 32-bit values, wrapping as the kernel's 32-bit ALU does. */
function alu(op: number, a: number, v: number): number {
  switch (op) {
    case ADD:
      return (a + v) >>> 0;
    case SUB:
      return (a - v) >>> 0;
    case MUL:
      return Math.imul(a, v) >>> 0;
    case DIV:
      return Math.floor(a / v) >>> 0;
    case OR:
      return (a | v) >>> 0;
    case AND:
      return (a & v) >>> 0;
    case XOR:
      return (a ^ v) >>> 0;
    // A shift by X uses its low 5 bits (the interpreter masks it, and x86_64
    // and arm64 shift instructions do the same); constant shifts are < 32.
    case LSH:
      return (a << (v & 31)) >>> 0;
    case RSH:
      return a >>> (v & 31);
    default:
      throw new Error(`seccomp program: ALU operation ${hex(op)}`);
  }
}

/** An unsigned 32-bit comparison. */
function compare(op: number, a: number, v: number): boolean {
  switch (op) {
    case JEQ:
      return a === v;
    case JGT:
      return a > v;
    case JGE:
      return a >= v;
    case JSET:
      return (a & v) !== 0;
    default:
      throw new Error(`seccomp program: jump ${hex(op)}`);
  }
}

/**
 * Whether the verdict lets the syscall run: ALLOW, and LOG (allow after
 * logging). Nothing else does. ERRNO, TRAP and the kills do not run it;
 * TRACE without a tracer fails it with ENOSYS; USER_NOTIF leaves it to the
 * agent holding the listener, which may refuse it, so neither counts as
 * allowing (seccomp-needs.ts decides where an agent's answer is enough); an
 * action value the kernel does not know is taken as KILL_PROCESS.
 */
export function allows(v: SeccompVerdict): boolean {
  return v.action === SECCOMP_RET.ALLOW || v.action === SECCOMP_RET.LOG;
}

/** A verdict in libseccomp's words, for messages: SCMP_ACT_ERRNO(1), SCMP_ACT_KILL_PROCESS, ... */
export function describeVerdict(v: SeccompVerdict): string {
  switch (v.action) {
    case SECCOMP_RET.ALLOW:
      return 'SCMP_ACT_ALLOW';
    case SECCOMP_RET.LOG:
      return 'SCMP_ACT_LOG';
    case SECCOMP_RET.ERRNO:
      return `SCMP_ACT_ERRNO(${v.data})`;
    case SECCOMP_RET.TRACE:
      return `SCMP_ACT_TRACE(${v.data})`;
    case SECCOMP_RET.TRAP:
      return 'SCMP_ACT_TRAP';
    case SECCOMP_RET.USER_NOTIF:
      return 'SCMP_ACT_NOTIFY';
    case SECCOMP_RET.KILL_PROCESS:
      return 'SCMP_ACT_KILL_PROCESS';
    case SECCOMP_RET.KILL_THREAD:
      return 'SCMP_ACT_KILL_THREAD';
    default:
      return `an unknown action ${hex(v.action)} (the kernel kills the process)`;
  }
}

/** AUDIT_ARCH_* of <linux/audit.h>. */
export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;

// Syscall numbers: x86_64 from arch/x86/entry/syscalls/syscall_64.tbl (as in
// <asm/unistd_64.h>), aarch64 from the generic table, <asm-generic/unistd.h>
// (64-bit: fcntl, newfstatat, mmap are __NR3264_*). aarch64 has no open,
// stat, fork and the like.
const x86_64: Record<string, number> = {
  read: 0,
  write: 1,
  close: 3,
  stat: 4,
  fstat: 5,
  mmap: 9,
  munmap: 11,
  brk: 12,
  rt_sigreturn: 15,
  writev: 20,
  getpid: 39,
  sendmsg: 46,
  clone: 56,
  execve: 59,
  exit: 60,
  wait4: 61,
  fcntl: 72,
  getcwd: 79,
  chdir: 80,
  umask: 95,
  setgroups: 116,
  setresuid: 117,
  setresgid: 119,
  capget: 125,
  capset: 126,
  personality: 135,
  prctl: 157,
  futex: 202,
  exit_group: 231,
  openat: 257,
  newfstatat: 262,
  dup3: 292,
  pipe2: 293,
  memfd_create: 319,
  clone3: 435,
  close_range: 436,
};

const aarch64: Record<string, number> = {
  getcwd: 17,
  dup3: 24,
  fcntl: 25,
  chdir: 49,
  openat: 56,
  close: 57,
  pipe2: 59,
  read: 63,
  write: 64,
  writev: 66,
  newfstatat: 79,
  fstat: 80,
  exit: 93,
  exit_group: 94,
  futex: 98,
  capget: 90,
  capset: 91,
  personality: 92,
  rt_sigreturn: 139,
  setresuid: 147,
  setresgid: 149,
  setgroups: 159,
  umask: 166,
  prctl: 167,
  getpid: 172,
  sendmsg: 211,
  brk: 214,
  munmap: 215,
  clone: 220,
  execve: 221,
  mmap: 222,
  wait4: 260,
  memfd_create: 279,
  clone3: 435,
  close_range: 436,
};

/** The audit architecture and some syscall numbers for a Node process.arch ('x64', 'arm64'); undefined for others. */
export function syscallTable(nodeArch: string): { arch: number; nr: Record<string, number> } | undefined {
  if (nodeArch === 'x64') return { arch: AUDIT_ARCH_X86_64, nr: { ...x86_64 } };
  if (nodeArch === 'arm64') return { arch: AUDIT_ARCH_AARCH64, nr: { ...aarch64 } };
  return undefined;
}

/**
 * The native architecture's audit value (AUDIT_ARCH_X86_64, AUDIT_ARCH_AARCH64)
 * and the numbers of the syscalls tsrun-init makes, for process.arch 'x64' and
 * 'arm64'; undefined on other architectures.
 */
export const nativeSyscalls: { arch: number; nr: Record<string, number> } | undefined = syscallTable(process.arch);
