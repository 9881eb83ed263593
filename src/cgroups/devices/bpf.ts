// The device allowlist on cgroup v2. v2 has no devices controller: the
// kernel instead runs every BPF_PROG_TYPE_CGROUP_DEVICE program attached to
// the task's cgroup (and its ancestors) on each mknod, and on each open of a
// block or character device node, and refuses with EPERM unless all return 1.
// This file turns the allowlist the v1 devices cgroup would hold into such a
// program; the addon (attachDeviceProgram) only loads and attaches the bytes.
//
// The program's context is struct bpf_cgroup_dev_ctx (linux/bpf.h), three
// u32 fields read-only at r1:
//   +0 access_type  (BPF_DEVCG_ACC_* << 16) | BPF_DEVCG_DEV_*
//                   ACC_MKNOD 1, ACC_READ 2, ACC_WRITE 4; DEV_BLOCK 1, DEV_CHAR 2
//   +4 major
//   +8 minor
// The access bits are the v1 cgroup's 'm', 'r', 'w' bits, so a rule's access
// string maps onto them directly.
//
// Layout: the fields go into registers once; then one block per exception,
// any mismatch jumping to the start of the next block; then the default. The
// order of the blocks does not matter: as in v1, any matching exception
// decides. Comparisons are 32-bit (BPF_JMP32, Linux 5.1; tsrun already needs
// 5.6 for openat2) so that a number is compared as the u32 it is in the
// context, with no sign extension of the 32-bit immediate.

/** A device rule as the kernel's v1 devices cgroup holds it. major/minor -1 = '*'. type 'a' = all. access: a non-empty subset of 'rwm' in that order. */
export interface DeviceRule {
  type: 'a' | 'b' | 'c';
  major: number;
  minor: number;
  access: string;
  allow: boolean;
}

/** The effective allowlist: a default (allow all / deny all) and exceptions of the opposite polarity, as the v1 devices cgroup keeps it. */
export interface DeviceAllowlist {
  defaultAllow: boolean;
  exceptions: DeviceRule[];
}

// Instruction classes, operations and sources (linux/bpf_common.h, bpf.h).
const LDX = 0x01, ALU = 0x04, JMP = 0x05, JMP32 = 0x06, ALU64 = 0x07;
const W = 0x00, MEM = 0x60;
const K = 0x00, X = 0x08;
const AND = 0x50, RSH = 0x70, MOV = 0xb0;
const JEQ = 0x10, JSET = 0x40, JNE = 0x50, EXIT = 0x90;

// Registers: r1 holds the context on entry, r0 is the result.
const R0 = 0, CTX = 1, TYPE = 2, ACCESS = 3, MAJOR = 4, MINOR = 5;

const DEV_BLOCK = 1, DEV_CHAR = 2;
const ACC = { m: 1, r: 2, w: 4 } as const;

interface Insn {
  code: number;
  dst: number;
  src?: number;
  off?: number;
  imm?: number;
}

function encode(prog: Insn[]): Buffer {
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach((i, n) => {
    buf.writeUInt8(i.code, n * 8);
    buf.writeUInt8(((i.src ?? 0) << 4) | i.dst, n * 8 + 1); // dst_reg:4 is the low nibble
    buf.writeInt16LE(i.off ?? 0, n * 8 + 2);
    buf.writeInt32LE(i.imm ?? 0, n * 8 + 4);
  });
  return buf;
}

/** The access string as ACC_* bits; throws unless a non-empty set of r, w, m. */
function accessBits(r: DeviceRule): number {
  let bits = 0;
  for (const c of r.access) {
    const b = ACC[c as keyof typeof ACC];
    if (!b || bits & b) throw new RangeError(`device rule ${describe(r)}: access must be a non-empty subset of "rwm"`);
    bits |= b;
  }
  if (!bits) throw new RangeError(`device rule ${describe(r)}: access must be a non-empty subset of "rwm"`);
  return bits;
}

const describe = (r: DeviceRule) => `${r.type} ${r.major}:${r.minor} ${JSON.stringify(r.access)}`;

function checkNumber(r: DeviceRule, n: number) {
  if (!Number.isInteger(n) || n < -1 || n > 0xffffffff) throw new RangeError(`device rule ${describe(r)}: major and minor must be -1 or a u32`);
}

/** One exception: mismatch jumps past the block; a match returns !defaultAllow. */
function exceptionBlock(r: DeviceRule, defaultAllow: boolean): Insn[] {
  if (r.type !== 'a' && r.type !== 'b' && r.type !== 'c') throw new RangeError(`device rule ${describe(r)}: type must be a, b or c`);
  checkNumber(r, r.major);
  checkNumber(r, r.minor);
  if (r.allow === defaultAllow) throw new RangeError(`device rule ${describe(r)}: an exception must have the opposite polarity of the default`);
  const bits = accessBits(r);

  // Jumps are emitted with off = -1 and patched to the block's end below.
  const block: Insn[] = [];
  const skipUnless = (reg: number, value: number) => block.push({ code: JMP32 | JNE | K, dst: reg, off: -1, imm: value | 0 });
  if (r.type !== 'a') skipUnless(TYPE, r.type === 'b' ? DEV_BLOCK : DEV_CHAR);
  if (r.major !== -1) skipUnless(MAJOR, r.major);
  if (r.minor !== -1) skipUnless(MINOR, r.minor);
  if (defaultAllow) {
    // A deny exception applies if it shares any bit with the request
    // (kernel: match_exception_partial): skip if (access & bits) == 0.
    block.push({ code: ALU | MOV | X, dst: R0, src: ACCESS });
    block.push({ code: ALU | AND | K, dst: R0, imm: bits });
    block.push({ code: JMP32 | JEQ | K, dst: R0, off: -1, imm: 0 });
  } else {
    // An allow exception applies only if it covers every requested bit
    // (kernel: match_exception): skip if access has a bit outside bits.
    block.push({ code: JMP32 | JSET | K, dst: ACCESS, off: -1, imm: ~bits });
  }
  block.push({ code: ALU64 | MOV | K, dst: R0, imm: defaultAllow ? 0 : 1 });
  block.push({ code: JMP | EXIT, dst: 0 });
  block.forEach((insn, n) => {
    if (insn.off === -1) insn.off = block.length - 1 - n;
  });
  return block;
}

/** The BPF_PROG_TYPE_CGROUP_DEVICE program enforcing `list`, as struct bpf_insn[] (8 bytes each, little-endian). */
export function deviceProgram(list: DeviceAllowlist): Buffer {
  const prog: Insn[] = [
    { code: LDX | W | MEM, dst: TYPE, src: CTX, off: 0 }, // access_type
    { code: ALU | MOV | X, dst: ACCESS, src: TYPE },
    { code: ALU | RSH | K, dst: ACCESS, imm: 16 }, // access = access_type >> 16
    { code: ALU | AND | K, dst: TYPE, imm: 0xffff }, // type = access_type & 0xffff
    { code: LDX | W | MEM, dst: MAJOR, src: CTX, off: 4 },
    { code: LDX | W | MEM, dst: MINOR, src: CTX, off: 8 },
  ];
  for (const r of list.exceptions) prog.push(...exceptionBlock(r, list.defaultAllow));
  prog.push({ code: ALU64 | MOV | K, dst: R0, imm: list.defaultAllow ? 1 : 0 });
  prog.push({ code: JMP | EXIT, dst: 0 });
  return encode(prog);
}
