// Unit tests of the conformance suite itself: probe parsing, comparison,
// TAP output, known-failure files, case definitions. No container is run.
import t from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  capsFromHex,
  capsToHex,
  extractProbeReport,
  BEGIN_MARK,
  END_MARK,
  AFTER_MARK,
  parseMountinfoLine,
  parseMountinfo,
  mountAt,
  propagationOf,
  parseCgroupLines,
  parseIdMap,
  parseTimensOffsets,
  nsInode,
  envValue,
  rlimitValue,
  RLIM_INFINITY,
} from '../../conformance/lib/probe'
import { applyAllowances, diffValues, normalizeReport, nsRelation, replaceAll } from '../../conformance/lib/compare'
import { TapWriter, tapDescription, toYaml, totals, sectionTable, closingLine, failingSections, ResultRow } from '../../conformance/lib/tap'
import { compareSemver, parseSemver, releaseOf, stableStringify, deepEqual } from '../../conformance/lib/util'
import { stateProblems } from '../../conformance/lib/state'
import { loadKnown, loadAllowances, runtimeNameOf, knownFileSchema, matchesKnown } from '../../conformance/lib/known'
import { validateCases, CaseDef } from '../../conformance/lib/case'
import { isStaticElf } from '../../conformance/lib/artifacts'
import { adaptConfig } from '../../conformance/cases/corpus'
import { baseConfig } from '../../conformance/lib/config'

function sampleReport(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    fds: [{ fd: 0, target: '/dev/null' }, { fd: 1, target: 'pipe:[123]' }, { fd: 2, target: '/run/x/stderr.log' }],
    argv: ['/probe'],
    env: ['PATH=/bin', 'HOME=/root'],
    pid: 1,
    ppid: 0,
    uid: 0, euid: 0, suid: 0, gid: 0, egid: 0, sgid: 0,
    groups: [],
    caps: { inheritable: '0000000000000000', permitted: '00000000a80425fb', effective: '00000000a80425fb', bounding: '00000000a80425fb', ambient: '0000000000000000' },
    noNewPrivs: 1, noNewPrivsPrctl: 1, seccomp: 0, seccompFilters: 0,
    umask: '0022', cpusAllowed: '0-1', memsAllowed: '0',
    rlimits: { RLIMIT_NOFILE: { soft: '1024', hard: '1024' }, RLIMIT_CORE: { soft: 'unlimited', hard: 'unlimited' } },
    cwd: '/', hostname: 'h', domainname: '(none)', machine: 'x86_64', personality: 0, memPolicy: { mode: 0, nodes: '0' },
    ns: { mnt: 'mnt:[4026532000]', net: 'net:[4026531840]', pid: 'pid:[4026532001]', user: 'user:[4026531837]' },
    oomScoreAdj: '0',
    cgroup: ['4:memory:/a/tsrun-conformance-ctabc/ctabc-1', '0::/'],
    uidMap: ['         0          0 4294967295'], gidMap: ['         0          0 4294967295'], setgroups: 'allow',
    timensOffsets: ['monotonic           0         0', 'boottime            0         0'],
    apparmor: null, lsmCurrent: null,
    mountinfo: [
      '100 90 0:50 / / rw,relatime master:1 - ext4 /dev/vda rw',
      '101 100 0:51 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw',
      '102 100 0:52 / /mnt/with\\040space rw shared:7 - tmpfs tmpfs rw,size=1024k',
    ],
    nice: 0,
    sched: { policy: 0, flags: 0, nice: 0, priority: 0, runtime: 0, deadline: 0, period: 0 },
    ioprio: { class: 0, level: 4 },
    tty: { isatty0: false, isatty1: false, isatty2: false, name0: null, sid: 1, pgid: 1, fgpgrp: -1 },
    devices: [{ path: '/dev/null', type: 'c', mode: 438, uid: 0, gid: 0, major: 1, minor: 3 }],
    clocks: { monotonic: 5, boottime: 6 },
    checks: [{ op: 'read', path: '/etc/hostname', ok: true, errno: 'OK', bytes: 9, content: 'template\n' }],
    complete: true,
    ...over,
  }
}

function framed(r: unknown, extra = ''): string {
  return `noise before\n${BEGIN_MARK}\n${JSON.stringify(r)}\n${END_MARK}\n${extra}`
}

t.test('probe output extraction', async (t) => {
  const ok = extractProbeReport(framed(sampleReport()))
  t.ok(ok.report, 'a framed report parses')
  t.equal(ok.report?.hostname, 'h')
  t.equal(ok.after, undefined, 'no after-marker means undefined')

  t.match(extractProbeReport('nothing here').error, /no begin marker/)
  t.match(extractProbeReport(`${BEGIN_MARK}\n{"a":1}`).error, /truncated/)
  t.match(extractProbeReport(`${BEGIN_MARK}\n{not json}\n${END_MARK}`).error, /not JSON/)
  const bad = sampleReport()
  delete bad.caps
  t.match(extractProbeReport(framed(bad)).error, /unexpected shape: caps/)

  const after = extractProbeReport(framed(sampleReport(), `${AFTER_MARK} {"op":"syscall","path":"chmod","ok":true,"errno":"OK"}\n`))
  t.same(after.after, { op: 'syscall', path: 'chmod', ok: true, errno: 'OK' }, 'the after-marker result is parsed')
})

t.test('capabilities', async (t) => {
  t.same(capsFromHex('0000000000000000'), [])
  t.same(capsFromHex('0000000000000001'), ['CAP_CHOWN'])
  t.same(capsFromHex('00000000a80425fb').length, 14, 'the classic docker default set has 14 caps')
  t.ok(capsFromHex('000001ffffffffff').includes('CAP_CHECKPOINT_RESTORE'))
  t.same(capsFromHex(capsToHex(['CAP_KILL', 'CAP_NET_RAW'])), ['CAP_KILL', 'CAP_NET_RAW'], 'round trip')
  t.throws(() => capsFromHex('zz'))
  t.throws(() => capsToHex(['CAP_NOPE']))
})

t.test('mountinfo parsing', async (t) => {
  const m = parseMountinfoLine('36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 shared:3 - ext3 /dev/root rw,errors=continue')
  t.same(m, {
    id: 36, parent: 35, major: 98, minor: 0, root: '/mnt1', mountPoint: '/mnt2',
    options: ['rw', 'noatime'], optional: ['master:1', 'shared:3'], fstype: 'ext3', source: '/dev/root',
    superOptions: ['rw', 'errors=continue'],
  })
  t.same(propagationOf(m), { shared: true, slave: true, unbindable: false })
  const list = parseMountinfo(sampleReport().mountinfo as string[])
  t.equal(list.length, 3)
  t.equal(list[2].mountPoint, '/mnt/with space', 'octal escapes are undone')
  t.equal(mountAt(list, '/proc')?.fstype, 'proc')
  t.equal(mountAt(list, '/nope'), undefined)
  t.throws(() => parseMountinfoLine('garbage'))
  const stacked = parseMountinfo(['1 0 0:1 / /a rw - tmpfs a rw', '2 1 0:2 / /a rw - tmpfs b rw'])
  t.equal(mountAt(stacked, '/a')?.source, 'b', 'the last mount at a point is the visible one')
})

t.test('cgroup, id map, ns, timens, env, rlimit parsing', async (t) => {
  t.same(parseCgroupLines(['4:memory:/a/b', '1:cpu,cpuacct:/', '0::/x', '']), [
    { id: 4, controllers: ['memory'], path: '/a/b' },
    { id: 1, controllers: ['cpu', 'cpuacct'], path: '/' },
    { id: 0, controllers: [], path: '/x' },
  ])
  t.same(parseCgroupLines(['9:name=systemd:/a:b']), [{ id: 9, controllers: ['name=systemd'], path: '/a:b' }], 'colons in paths survive')
  t.same(parseIdMap(['         0     100000      65536', 'junk']), [{ containerID: 0, hostID: 100000, size: 65536 }])
  t.equal(nsInode('net:[4026531840]'), 4026531840)
  t.equal(nsInode(null), null)
  t.equal(nsInode('weird'), null)
  t.same(parseTimensOffsets(['monotonic      172800 0', 'boottime 5 500']), { monotonic: { secs: 172800, nanosecs: 0 }, boottime: { secs: 5, nanosecs: 500 } })
  t.equal(envValue(['A=1', 'AB=2', 'B=x=y'], 'B'), 'x=y')
  t.equal(envValue(['A=1'], 'Z'), undefined)
  t.equal(rlimitValue('unlimited'), RLIM_INFINITY)
  t.equal(rlimitValue('1024'), 1024n)
})

t.test('semver', async (t) => {
  t.ok(parseSemver('1.0.2-dev'))
  t.ok(parseSemver('1.2.0+build.5'))
  t.equal(parseSemver('1.0'), null)
  t.equal(parseSemver('01.0.0'), null)
  t.equal(parseSemver('not-a-version'), null)
  t.ok(compareSemver('1.0.2-dev', '1.0.2') < 0, 'a prerelease sorts before its release')
  t.ok(compareSemver('1.1.0', '1.0.9') > 0)
  t.ok(compareSemver('1.0.0-rc.2', '1.0.0-rc.10') < 0, 'numeric identifiers compare numerically')
  t.ok(compareSemver('1.0.0-alpha', '1.0.0-1') > 0, 'alphanumeric identifiers sort after numeric ones')
  t.equal(compareSemver('1.2.3+a', '1.2.3+b'), 0, 'build metadata is ignored')
  t.equal(releaseOf('1.0.2-dev'), '1.0.2')
  t.throws(() => compareSemver('x', '1.0.0'))
})

t.test('state checks', async (t) => {
  const good = { ociVersion: '1.0.2', id: 'a', status: 'created', pid: 42, bundle: '/b' }
  t.same(stateProblems(good, { id: 'a', bundle: '/b', status: ['created'] }), [])
  t.match(stateProblems({ ...good, pid: 0 }).join(), /pid must be a positive integer/)
  t.match(stateProblems({ ...good, bundle: 'rel' }).join(), /not an absolute path/)
  t.match(stateProblems({ ...good, ociVersion: 'x' }).join(), /not SemVer/)
  t.match(stateProblems({ ...good, status: 'running' }, { status: ['created'] }).join(), /expected created/)
  t.match(stateProblems({ ...good, annotations: { a: 1 } }).join(), /annotation a is not a string/)
  t.same(stateProblems({ ...good, status: 'stopped', pid: undefined }), [], 'pid may be absent when stopped')
  t.same(stateProblems([]), ['state is not a JSON object'])
})

t.test('normalization and comparison', async (t) => {
  const base = sampleReport()
  const c = {
    hostNs: { mnt: 4026531841, net: 4026531840, pid: 4026531836, user: 4026531837 },
    replacements: [['/run/x', '<case>'], ['ctabc-1', '<id0>']] as [string, string][],
  }
  t.equal(nsRelation('net:[4026531840]', 'net', c), 'host')
  t.equal(nsRelation('mnt:[4026532000]', 'mnt', c), 'new')
  t.equal(nsRelation('pid:[4026531836]', 'pid_for_children', c), 'host', 'pid_for_children compares with pid')
  t.equal(nsRelation(null, 'net', c), 'absent')
  t.equal(nsRelation('net:[7]', 'net', { ...c, nsLabels: new Map([[7, 'joined-net']]) }), 'joined-net')
  t.equal(replaceAll('/run/x/a pipe:[99] /dev/pts/3', c.replacements), '<case>/a pipe:[N] /dev/pts/N')

  const a = normalizeReport(extractProbeReport(framed(base)).report!, c)
  const b = normalizeReport(extractProbeReport(framed(sampleReport({ pid: 1, cgroup: ['4:memory:/other/ctdef-9', '0::/'], clocks: { monotonic: 99, boottime: 100 }, ns: { ...(base.ns as object), mnt: 'mnt:[4026532999]' } }))).report!, c)
  t.same(diffValues(a, b), [], 'ids, cgroup names, clocks and inode numbers of new namespaces do not count')
  t.same((a as { fds: unknown }).fds, [{ fd: 0, target: '/dev/null' }, { fd: 1, target: 'pipe:[N]' }, { fd: 2, target: '<case>/stderr.log' }])

  const d = normalizeReport(extractProbeReport(framed(sampleReport({ hostname: 'other', uid: 5 }))).report!, c)
  t.same(diffValues(a, d).map((x) => x.path), ['hostname', 'uid'], 'real differences are reported by field')

  const m1 = { mounts: [{ mountPoint: '/a', fstype: 'tmpfs' }, { mountPoint: '/b', fstype: 'proc' }] }
  const m2 = { mounts: [{ mountPoint: '/b', fstype: 'proc' }, { mountPoint: '/a', fstype: 'ramfs' }] }
  t.same(diffValues(m1, m2).map((x) => x.path), ['mounts[order]', 'mounts[/a].fstype'], 'mounts compare by mount point, order separately')
  t.same(diffValues({ x: [1, 2] }, { x: [2, 1] }).map((x) => x.path), ['x'], 'other arrays compare whole')
  t.same(diffValues({ x: 1 }, { y: 1 }).map((d) => d.path).sort(), ['x', 'y'], 'missing keys are differences')
})

t.test('allowances', async (t) => {
  const diffs = [
    { path: 'env', target: ['A'], reference: ['A', 'HOME=/root'] },
    { path: 'mounts[/proc].options', target: [], reference: [] },
    { path: 'uid', target: 1, reference: 2 },
  ]
  const res = applyAllowances('config.process.env', 'tsrun', diffs, [
    { case: 'config.process.*', field: 'env', reason: 'runc adds HOME; tsrun does not' },
    { case: '*', field: 'mounts[/proc]', runtimes: ['crun'], reason: 'only for crun, not for this runtime' },
  ])
  t.same(res.allowed.map((d) => [d.path, d.reason]), [['env', 'runc adds HOME; tsrun does not']])
  t.same(res.rejected.map((d) => d.path), ['mounts[/proc].options', 'uid'])
})

t.test('TAP output', async (t) => {
  let out = ''
  const w = new TapWriter((s) => (out += s))
  w.header(3)
  w.point(true, 'a.case', null)
  w.point(false, 'b # tricky', { kind: 'TODO', reason: 'known runc failure: x#y' }, { section: 'runtime.md#runtimeDelete', failures: [{ message: 'm', expected: 'created', actual: null }] })
  w.point(true, 'c', { kind: 'SKIP', reason: 'no hugetlb' })
  w.comment('two\nlines')
  const lines = out.split('\n')
  t.equal(lines[0], 'TAP version 14')
  t.equal(lines[1], '1..3')
  t.equal(lines[2], 'ok 1 - a.case')
  t.equal(lines[3], 'not ok 2 - b \\# tricky # TODO known runc failure: x\\#y', '# is escaped in descriptions and reasons')
  t.equal(lines[4], '  ---')
  t.equal(lines[5], '  section: "runtime.md#runtimeDelete"')
  t.equal(lines[6], '  failures:')
  t.equal(lines[7], '    - message: "m"')
  t.ok(out.includes('  ...\nok 3 - c # SKIP no hugetlb\n'))
  t.ok(out.endsWith('# two\n# lines\n'))
  t.equal(w.count, 3)
  t.equal(tapDescription('a\nb'), 'a b')
  t.equal(toYaml({ a: [], b: {}, c: [1, 'x'], 'weird key': true }), 'a: []\nb: {}\nc:\n  - 1\n  - "x"\n"weird key": true')
})

t.test('totals, table and closing line', async (t) => {
  const rows: ResultRow[] = [
    { id: 'a', section: 'runtime.md#runtimeState', status: 'pass', known: false },
    { id: 'b', section: 'config.md#configProcess', status: 'fail', known: true },
    { id: 'c', section: 'config.md#configProcess', status: 'fail', known: false },
    { id: 'd', section: 'config-linux.md#configLinuxSysctl', status: 'skip', known: false },
  ]
  const tt = totals(rows)
  t.same(tt, { passed: 1, failed: 2, skipped: 1, knownFailed: 1, unexpectedFailed: 1 })
  t.equal(closingLine(tt), '1 passed, 2 failed, 1 skipped')
  t.match(closingLine(tt), /^\d+ passed, \d+ failed, \d+ skipped$/, 'the plain closing-line format')
  const table = sectionTable(rows).split('\n')
  t.match(table[2], /^runtime\.md#runtimeState\s+1\s+0\s+\(0\)\s+0$/, 'runtime.md sorts first')
  t.match(table[3], /^config\.md#configProcess\s+0\s+2\s+\(1\)\s+0$/)
  t.match(table[table.length - 1], /^total\s+1\s+2\s+\(1\)\s+1$/)
  t.same(failingSections(rows), ['config.md#configProcess'])
})

t.test('known failures and allowances files', async (t) => {
  const runc = loadKnown('runc')
  t.ok(Object.keys(runc.failures).length > 0, 'runc has a list')
  // tsrun's list is read, and so validated, exactly like runc's.
  for (const list of [runc, loadKnown('tsrun')]) {
    for (const [id, e] of Object.entries(list.failures)) {
      t.ok(e.reason.length >= 20 && /\.md#/.test(e.spec), `${list.runtime} ${id} has a reason and a spec clause`)
      t.ok(e.message.length >= 3, `${list.runtime} ${id} says which failure it is`)
    }
  }
  const entry = { reason: 'a reason long enough to count', spec: 'config.md#configProcess', message: '^uname domainname; expected "x"; actual "\\(none\\)"$' }
  t.ok(matchesKnown(entry, [{ message: 'other' }, { message: 'uname domainname', expected: 'x', actual: '(none)' }]), 'the failure it names: known')
  t.notOk(matchesKnown(entry, [{ message: 'uname domainname', expected: 'x', actual: 'y' }]), 'the same check failing otherwise: not known')
  t.notOk(knownFileSchema.safeParse({ runtime: 'x', failures: { a: { reason: 'a reason long enough to count', spec: 'config.md#x' } } }).success, 'an entry without a message is refused')
  t.notOk(knownFileSchema.safeParse({ runtime: 'x', failures: { a: { ...entry, message: '(unclosed' } } }).success, 'a message that is not a regular expression is refused')
  t.same(loadKnown('no-such-runtime').failures, {}, 'a runtime without a list has none')
  t.ok(Array.isArray(loadAllowances()))
  t.notOk(knownFileSchema.safeParse({ runtime: 'x', failures: { a: { reason: 'short', spec: 'x' } } }).success, 'a short reason is refused')
  t.equal(runtimeNameOf('/usr/sbin/runc'), 'runc')
  t.equal(runtimeNameOf('./crun-wrapper.sh'), 'crun')
})

t.test('case definitions', async (t) => {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { allCases } = require('../../conformance/cases') as { allCases: CaseDef[] }
  t.same(validateCases(allCases), [], 'ids unique, sections valid, requirements present')
  t.ok(allCases.length >= 150, `at least 150 cases (${allCases.length})`)
  const ids = new Set(allCases.map((c) => c.id))
  for (const list of [loadKnown('runc'), loadKnown('tsrun')]) {
    for (const id of Object.keys(list.failures)) t.ok(ids.has(id), `known ${list.runtime} failure ${id} names an existing case`)
  }
  for (const file of ['runtime.md', 'runtime-linux.md', 'config.md', 'config-linux.md', 'features.md']) {
    t.ok(allCases.some((c) => c.section.startsWith(file + '#')), `cases cite ${file}`)
  }
  // exec, ps, pause, resume, update and events are not in the runtime-spec: their cases cite runc's man pages
  for (const op of ['exec', 'ps', 'pause', 'resume', 'update', 'events']) {
    t.ok(allCases.some((c) => c.section.startsWith(`runc-${op}.8.md#`)), `cases cite runc-${op}.8.md`)
  }
  const manCase = (section: string): CaseDef => ({ id: 'runc.x', section, requirement: 'a requirement long enough', run: async () => undefined })
  t.same(validateCases([manCase('runc-exec.8.md#options')]), [], "a runc man page section is a valid section")
  t.equal(validateCases([manCase('runc-checkpoint.8.md#options')]).length, 1, 'a man page of an operation the suite does not cover is not')
  t.ok(knownFileSchema.safeParse({ runtime: 'x', failures: { a: { reason: 'a reason long enough to count', spec: 'runc-exec.8.md#name', message: 'm.*' } } }).success, 'a known failure may cite a runc man page')
  const bad: CaseDef = { id: 'Bad Id', section: 'nowhere', requirement: 'short', run: async () => undefined }
  t.equal(validateCases([bad, bad]).length, 7, 'bad id, bad section, short requirement for each, plus the duplicate')
})

t.test('static ELF detection', async (t) => {
  const hdr = Buffer.alloc(64 + 56 * 2)
  hdr.writeUInt32BE(0x7f454c46, 0)
  hdr[4] = 2 // 64-bit
  hdr[5] = 1 // little endian
  hdr.writeBigUInt64LE(64n, 32) // phoff
  hdr.writeUInt16LE(56, 54) // phentsize
  hdr.writeUInt16LE(2, 56) // phnum
  hdr.writeUInt32LE(1, 64) // PT_LOAD
  hdr.writeUInt32LE(1, 64 + 56) // PT_LOAD
  t.ok(isStaticElf(hdr), 'no PT_INTERP: static')
  hdr.writeUInt32LE(3, 64 + 56) // PT_INTERP
  t.notOk(isStaticElf(hdr), 'PT_INTERP: dynamic')
  t.notOk(isStaticElf(Buffer.from('#!/bin/sh\n')), 'not an ELF')
})

t.test('corpus adaptation', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conf-unit-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const orig = baseConfig('1.0.2', '/machine.slice/x')
  orig.root.path = '/var/lib/containers/storage/overlay/abc/merged'
  orig.process.terminal = true
  orig.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1048576, hard: 1048576 }]
  orig.process.apparmorProfile = 'containers-default'
  orig.hooks = { prestart: [{ path: '/usr/libexec/oci/hooks.d/x' }] }
  orig.linux.namespaces.push({ type: 'cgroup' })
  orig.linux.namespaces = orig.linux.namespaces.map((n: { type: string }) => (n.type === 'network' ? { type: 'network', path: '/run/netns/x' } : n))
  orig.mounts.push({ destination: '/etc/resolv.conf', type: 'bind', source: '/run/containers/storage/abc/userdata/resolv.conf', options: ['bind'] })
  orig.mounts.push({ destination: '/data', type: 'bind', source: '/srv/oci-corpus/vol', options: ['rbind'] })
  const frozen = JSON.stringify(orig)
  const a = adaptConfig(orig, { workDir: dir, hostHardNofile: 20000n, hostOomScoreAdj: 0, hasCapSysResource: false, apparmor: false, selinux: false })
  t.equal(JSON.stringify(orig), frozen, 'the original is not modified')
  t.equal(a.config.root.path, 'rootfs')
  t.same(a.config.process.args, ['/probe'])
  t.equal(a.config.process.terminal, false)
  t.equal(a.config.linux.cgroupsPath, '')
  t.equal(a.config.hooks, undefined)
  t.equal(a.config.process.apparmorProfile, undefined)
  t.same(a.config.process.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 }])
  t.same(a.config.linux.namespaces.find((n: { type: string }) => n.type === 'network'), { type: 'network' })
  const resolv = a.config.mounts.find((m: { destination: string }) => m.destination === '/etc/resolv.conf')
  t.ok(resolv.source.startsWith(dir) && fs.statSync(resolv.source).isFile(), 'file bind sources get a local file')
  const data = a.config.mounts.find((m: { destination: string }) => m.destination === '/data')
  t.ok(data.source.startsWith(dir) && fs.statSync(data.source).isDirectory(), 'directory bind sources get a local directory')
  t.ok(a.changes.length >= 5, 'every change is recorded')
  t.ok(stableStringify({ b: 1, a: [2] }) === '{"a":[2],"b":1}' && deepEqual({ a: 1, b: 2 }, { b: 2, a: 1 }))
})
