// Tests for the project's JSON Schemas (schemas/*.schema.json).
//
// Each schema is compiled the way the build compiles it (ajv 8, strict mode,
// standalone code), then checked against real generator output
// (conformance/corpus), the specification's own examples, and a table of
// invalid documents, each asserting the single error ajv reports and where.

import t from 'tap'
import Ajv from 'ajv'
import type { ErrorObject, ValidateFunction } from 'ajv'
import standaloneCode from 'ajv/dist/standalone'
import { readFileSync, readdirSync, existsSync } from 'node:fs'
import { join, resolve } from 'node:path'

type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any

const repoRoot = resolve(__dirname, '..', '..')
const schemaDir = join(repoRoot, 'schemas')
const corpusDir = join(repoRoot, 'conformance', 'corpus')

const readJson = (file: string): Json => JSON.parse(readFileSync(file, 'utf8'))
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v))

const newAjv = () => new Ajv({ strict: true, allErrors: false, code: { source: true } })

const schemas: Record<string, Json> = {
  config: readJson(join(schemaDir, 'config.schema.json')),
  state: readJson(join(schemaDir, 'state.schema.json')),
  features: readJson(join(schemaDir, 'features.schema.json')),
}

const compile = (name: string): ValidateFunction => newAjv().compile(schemas[name])

const validateConfig = compile('config')
const validateState = compile('state')
const validateFeatures = compile('features')

const fmt = (errors: ErrorObject[] | null | undefined) =>
  (errors ?? []).map(e => `${e.instancePath || '/'}: ${e.message}`).join('; ')

// ---------------------------------------------------------------------------
// A valid Linux config touching nearly every property; invalid cases below
// are small mutations of it.

function baseConfig(): Json {
  return {
    ociVersion: '1.2.0',
    root: { path: 'rootfs', readonly: true },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      {
        destination: '/data',
        type: 'none',
        source: '/volumes/data',
        options: ['rbind', 'rw', 'idmap'],
        uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
        gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      },
    ],
    process: {
      terminal: true,
      consoleSize: { height: 25, width: 80 },
      user: { uid: 1, gid: 1, umask: 18, additionalGids: [5, 6] },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: {
        bounding: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        effective: ['CAP_AUDIT_WRITE', 'CAP_KILL'],
        inheritable: [],
        permitted: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        ambient: ['CAP_NET_BIND_SERVICE'],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      apparmorProfile: 'acme_secure_profile',
      noNewPrivileges: true,
      oomScoreAdj: 100,
      scheduler: { policy: 'SCHED_OTHER', nice: -5, flags: ['SCHED_FLAG_RESET_ON_FORK'] },
      selinuxLabel: 'system_u:system_r:svirt_lxc_net_t:s0:c124,c675',
      ioPriority: { class: 'IOPRIO_CLASS_BE', priority: 4 },
      execCPUAffinity: { initial: '7', final: '0-3,7' },
    },
    hostname: 'box',
    domainname: 'example.test',
    hooks: {
      prestart: [{ path: '/usr/bin/fix-mounts', args: ['fix-mounts', 'arg1'], env: ['key1=value1'] }],
      createRuntime: [{ path: '/usr/bin/setup-network' }],
      createContainer: [{ path: '/usr/bin/mount-hook', args: ['-mount'] }],
      startContainer: [{ path: '/usr/bin/refresh-ldcache' }],
      poststart: [{ path: '/usr/bin/notify-start', timeout: 5 }],
      poststop: [{ path: '/usr/sbin/cleanup.sh', args: ['cleanup.sh', '-f'] }],
    },
    annotations: { 'com.example.key': 'value', 'com.example.empty': '' },
    linux: {
      namespaces: [
        { type: 'pid' },
        { type: 'network', path: '/var/run/netns/neta' },
        { type: 'mount' },
        { type: 'ipc' },
        { type: 'uts' },
        { type: 'user' },
        { type: 'cgroup' },
        { type: 'time' },
      ],
      uidMappings: [{ containerID: 0, hostID: 1000, size: 32000 }],
      gidMappings: [{ containerID: 0, hostID: 1000, size: 32000 }],
      timeOffsets: { monotonic: { secs: 172800, nanosecs: 0 }, boottime: { secs: -3600 } },
      devices: [
        { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 438, uid: 0, gid: 0 },
        { path: '/dev/fifo0', type: 'p' },
      ],
      netDevices: { eth1: { name: 'container_eth1' }, eth2: {} },
      cgroupsPath: '/tsrun/test',
      resources: {
        devices: [
          { allow: false, access: 'rwm' },
          { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
        ],
        memory: { limit: 536870912, reservation: 536870912, swap: -1, swappiness: 0, disableOOMKiller: false },
        cpu: { shares: 1024, quota: 1000000, burst: 1000000, period: 500000, cpus: '2-3', mems: '0-7', idle: 0 },
        blockIO: {
          weight: 10,
          leafWeight: 10,
          weightDevice: [
            { major: 8, minor: 0, weight: 500, leafWeight: 300 },
            { major: 8, minor: 16, leafWeight: 300 },
          ],
          throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 600 }],
          throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 300 }],
        },
        hugepageLimits: [{ pageSize: '2MB', limit: 209715200 }],
        network: { classID: 1048577, priorities: [{ name: 'eth0', priority: 500 }] },
        pids: { limit: 32771 },
        rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 }, mlx4_0: { hcaObjects: 1000 } },
        unified: { 'memory.high': '1073741824' },
      },
      intelRdt: {
        closID: 'guaranteed_group',
        l3CacheSchema: 'L3:0=7f0;1=1f',
        memBwSchema: 'MB:0=20;1=70',
        schemata: ['L2:0=f;1=f'],
        enableMonitoring: true,
      },
      memoryPolicy: { mode: 'MPOL_INTERLEAVE', nodes: '2-3', flags: ['MPOL_F_STATIC_NODES'] },
      sysctl: { 'net.ipv4.ip_forward': '1' },
      seccomp: {
        defaultAction: 'SCMP_ACT_ERRNO',
        defaultErrnoRet: 1,
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
        flags: ['SECCOMP_FILTER_FLAG_LOG'],
        listenerPath: '/run/seccomp-agent.socket',
        listenerMetadata: 'MKNOD=/dev/null',
        syscalls: [
          { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
          { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
          { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
          { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
        ],
      },
      rootfsPropagation: 'rslave',
      maskedPaths: ['/proc/kcore'],
      readonlyPaths: ['/proc/sys'],
      mountLabel: 'system_u:object_r:svirt_sandbox_file_t:s0:c715,c811',
      personality: { domain: 'LINUX' },
    },
  }
}

t.test('base config is valid', async t => {
  t.equal(validateConfig(baseConfig()), true, fmt(validateConfig.errors))
})

// ---------------------------------------------------------------------------
// Real configs from generators

const corpusFiles = existsSync(corpusDir)
  ? readdirSync(corpusDir).filter(f => f.endsWith('.json')).sort()
  : []

t.test('conformance corpus', {
  skip: corpusFiles.length === 0 ? 'conformance/corpus has no *.json files yet' : false,
}, async t => {
  for (const f of corpusFiles) {
    const doc = readJson(join(corpusDir, f))
    t.equal(validateConfig(doc), true, `${f} validates`, { errors: fmt(validateConfig.errors) })
  }
})

// ---------------------------------------------------------------------------
// The specification's own examples, assembled into full documents

const specFullExample = {
  ociVersion: '1.0.1',
  process: {
    terminal: true,
    user: { uid: 1, gid: 1, additionalGids: [5, 6] },
    args: ['sh'],
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
    cwd: '/',
    capabilities: {
      bounding: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      permitted: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      inheritable: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      effective: ['CAP_AUDIT_WRITE', 'CAP_KILL'],
      ambient: ['CAP_NET_BIND_SERVICE'],
    },
    rlimits: [
      { type: 'RLIMIT_CORE', hard: 1024, soft: 1024 },
      { type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 },
    ],
    apparmorProfile: 'acme_secure_profile',
    oomScoreAdj: 100,
    selinuxLabel: 'system_u:system_r:svirt_lxc_net_t:s0:c124,c675',
    ioPriority: { class: 'IOPRIO_CLASS_IDLE', priority: 4 },
    noNewPrivileges: true,
  },
  root: { path: 'rootfs', readonly: true },
  hostname: 'slartibartfast',
  mounts: [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
  ],
  hooks: {
    prestart: [
      { path: '/usr/bin/fix-mounts', args: ['fix-mounts', 'arg1', 'arg2'], env: ['key1=value1'] },
      { path: '/usr/bin/setup-network' },
    ],
    poststart: [{ path: '/usr/bin/notify-start', timeout: 5 }],
    poststop: [{ path: '/usr/sbin/cleanup.sh', args: ['cleanup.sh', '-f'] }],
  },
  linux: {
    devices: [
      { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 438, uid: 0, gid: 0 },
      { path: '/dev/sda', type: 'b', major: 8, minor: 0, fileMode: 432, uid: 0, gid: 0 },
    ],
    uidMappings: [{ containerID: 0, hostID: 1000, size: 32000 }],
    gidMappings: [{ containerID: 0, hostID: 1000, size: 32000 }],
    sysctl: { 'net.ipv4.ip_forward': '1', 'net.core.somaxconn': '256' },
    cgroupsPath: '/myRuntime/myContainer',
    resources: {
      network: { classID: 1048577, priorities: [{ name: 'eth0', priority: 500 }, { name: 'eth1', priority: 1000 }] },
      pids: { limit: 32771 },
      hugepageLimits: [
        { pageSize: '2MB', limit: 9223372036854772000 },
        { pageSize: '64KB', limit: 1000000 },
      ],
      memory: { limit: 536870912, reservation: 536870912, swap: 536870912, kernel: -1, kernelTCP: -1, swappiness: 0, disableOOMKiller: false },
      cpu: { shares: 1024, quota: 1000000, period: 500000, realtimeRuntime: 950000, realtimePeriod: 1000000, cpus: '2-3', idle: 1, mems: '0-7' },
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
        { allow: true, type: 'b', major: 8, minor: 0, access: 'r' },
      ],
      blockIO: {
        weight: 10,
        leafWeight: 10,
        weightDevice: [
          { major: 8, minor: 0, weight: 500, leafWeight: 300 },
          { major: 8, minor: 16, weight: 500 },
        ],
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 600 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 300 }],
      },
    },
    rootfsPropagation: 'slave',
    seccomp: {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      syscalls: [{ names: ['getcwd', 'chmod'], action: 'SCMP_ACT_ERRNO' }],
    },
    timeOffsets: { monotonic: { secs: 172800, nanosecs: 0 }, boottime: { secs: 604800, nanosecs: 0 } },
    namespaces: [
      { type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' },
      { type: 'mount' }, { type: 'user' }, { type: 'cgroup' }, { type: 'time' },
    ],
    maskedPaths: ['/proc/kcore', '/proc/latency_stats', '/proc/timer_stats', '/proc/sched_debug'],
    readonlyPaths: ['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    mountLabel: 'system_u:object_r:svirt_sandbox_file_t:s0:c715,c811',
  },
  annotations: { 'com.example.key1': 'value1', 'com.example.key2': 'value2' },
}

// The per-section examples of config.md and config-linux.md, put together.
const specSectionExamples = {
  ociVersion: '0.1.0',
  root: { path: 'rootfs', readonly: true },
  mounts: [
    { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/data', type: 'none', source: '/volumes/testing', options: ['rbind', 'rw'] },
  ],
  process: {
    terminal: true,
    consoleSize: { height: 25, width: 80 },
    user: { uid: 1, gid: 1, umask: 63, additionalGids: [5, 6] },
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
    cwd: '/root',
    args: ['sh'],
    apparmorProfile: 'acme_secure_profile',
    selinuxLabel: 'system_u:system_r:svirt_lxc_net_t:s0:c124,c675',
    ioPriority: { class: 'IOPRIO_CLASS_IDLE', priority: 4 },
    noNewPrivileges: true,
    capabilities: {
      bounding: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      permitted: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      inheritable: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      effective: ['CAP_AUDIT_WRITE', 'CAP_KILL'],
      ambient: ['CAP_NET_BIND_SERVICE'],
    },
    rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
    execCPUAffinity: { initial: '7', final: '0-3,7' },
  },
  hostname: 'mrsdalloway',
  domainname: 'foobarbaz.test',
  hooks: {
    prestart: [
      { path: '/usr/bin/fix-mounts', args: ['fix-mounts', 'arg1', 'arg2'], env: ['key1=value1'] },
      { path: '/usr/bin/setup-network' },
    ],
    createRuntime: [
      { path: '/usr/bin/fix-mounts', args: ['fix-mounts', 'arg1', 'arg2'], env: ['key1=value1'] },
      { path: '/usr/bin/setup-network' },
    ],
    createContainer: [{ path: '/usr/bin/mount-hook', args: ['-mount', 'arg1', 'arg2'], env: ['key1=value1'] }],
    startContainer: [{ path: '/usr/bin/refresh-ldcache' }],
    poststart: [{ path: '/usr/bin/notify-start', timeout: 5 }],
    poststop: [{ path: '/usr/sbin/cleanup.sh', args: ['cleanup.sh', '-f'] }],
  },
  annotations: { 'com.example.gpu-cores': '2' },
  linux: {
    namespaces: [
      { type: 'pid', path: '/proc/1234/ns/pid' },
      { type: 'network', path: '/var/run/netns/neta' },
      { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }, { type: 'user' }, { type: 'cgroup' }, { type: 'time' },
    ],
    uidMappings: [{ containerID: 0, hostID: 1000, size: 32000 }],
    gidMappings: [{ containerID: 0, hostID: 1000, size: 32000 }],
    devices: [
      { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 438, uid: 0, gid: 0 },
      { path: '/dev/sda', type: 'b', major: 8, minor: 0, fileMode: 432, uid: 0, gid: 0 },
    ],
    netDevices: { eth0: { name: 'container_eth0' } },
    cgroupsPath: '/myRuntime/myContainer',
    resources: {
      memory: { limit: 536870912, reservation: 536870912, swap: 536870912, kernel: -1, kernelTCP: -1, swappiness: 0, disableOOMKiller: false },
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
        { allow: true, type: 'b', major: 8, minor: 0, access: 'r' },
      ],
      cpu: { shares: 1024, quota: 1000000, burst: 1000000, period: 500000, realtimeRuntime: 950000, realtimePeriod: 1000000, cpus: '2-3', mems: '0-7', idle: 0 },
      blockIO: {
        weight: 10,
        leafWeight: 10,
        weightDevice: [
          { major: 8, minor: 0, weight: 500, leafWeight: 300 },
          { major: 8, minor: 16, weight: 500 },
        ],
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 600 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 300 }],
      },
      hugepageLimits: [{ pageSize: '2MB', limit: 209715200 }, { pageSize: '64KB', limit: 1000000 }],
      network: { classID: 1048577, priorities: [{ name: 'eth0', priority: 500 }, { name: 'eth1', priority: 1000 }] },
      pids: { limit: 32771 },
      rdma: {
        mlx5_1: { hcaHandles: 3, hcaObjects: 10000 },
        mlx4_0: { hcaObjects: 1000 },
        rxe3: { hcaObjects: 10000 },
      },
      unified: { 'io.max': '259:0 rbps=2097152 wiops=120\n253:0 rbps=2097152 wiops=120', 'hugetlb.1GB.max': '1073741824' },
    },
    intelRdt: { closID: 'guaranteed_group', schemata: ['L3:0=7f0;1=1f', 'L2:0=f;1=f;2=f;3=f', 'MB:0=20;1=70'] },
    // The spec's memoryPolicy example is missing a comma; this is its evident intent.
    memoryPolicy: { mode: 'MPOL_INTERLEAVE', nodes: '2-3', flags: ['MPOL_F_STATIC_NODES'] },
    sysctl: { 'net.ipv4.ip_forward': '1', 'net.core.somaxconn': '256' },
    seccomp: {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      syscalls: [{ names: ['getcwd', 'chmod'], action: 'SCMP_ACT_ERRNO' }],
    },
    rootfsPropagation: 'slave',
    maskedPaths: ['/proc/kcore'],
    readonlyPaths: ['/proc/sys'],
    mountLabel: 'system_u:object_r:svirt_sandbox_file_t:s0:c715,c811',
    personality: { domain: 'LINUX32' },
  },
}

t.test('specification examples', async t => {
  const ok = (name: string, doc: Json) =>
    t.equal(validateConfig(doc), true, name, { errors: fmt(validateConfig.errors) })

  ok('config.md full example', specFullExample)
  ok('config.md and config-linux.md section examples', specSectionExamples)
  ok('minimal Linux config (ociVersion and root only)', { ociVersion: '1.0.0', root: { path: 'rootfs' } })
  ok('config.md "Platform-specific configuration" Linux example', {
    ociVersion: '1.1.0',
    root: { path: '/to/bundle/rootfs' },
    linux: { namespaces: [{ type: 'pid' }] },
  })
  ok('every seccomp action, architecture, flag and operator', {
    ociVersion: '1.3.0',
    root: { path: 'rootfs' },
    linux: {
      seccomp: {
        defaultAction: 'SCMP_ACT_KILL_PROCESS',
        architectures: schemas.config.definitions.seccompArch.enum,
        flags: schemas.config.definitions.seccompFlag.enum,
        syscalls: schemas.config.definitions.seccompAction.enum.map((action: string, i: number) => ({
          names: ['getpid'],
          action,
          args: [{ index: i % 6, value: 1, op: schemas.config.definitions.seccompOperator.enum[i % 7] }],
        })),
      },
    },
  })
})

t.test('unknown properties are accepted', async t => {
  const doc = baseConfig()
  doc['com.example.extension'] = { anything: [1, 2, 3] }
  doc.windows = { layerFolders: ['C:\\layers\\1'], hyperv: {} }
  doc.solaris = { milestone: 'svc:/milestone/container:default' }
  doc.vm = { hypervisor: { path: '/usr/bin/qemu' }, kernel: { path: '/vmlinuz' } }
  doc.zos = { namespaces: [] }
  doc.freebsd = { jail: {} }
  doc.root.extra = true
  doc.mounts[0].extra = 1
  doc.process.user.username = 'containeradministrator'
  doc.process.extra = 'x'
  doc.process.capabilities.extra = ['CAP_X']
  doc.hooks.futureHook = [{ anything: true }]
  doc.hooks.prestart[0].extra = 1
  doc.linux.extra = {}
  doc.linux.namespaces[0].extra = 1
  doc.linux.resources.extra = 1
  doc.linux.resources.memory.extra = 1
  doc.linux.seccomp.extra = 1
  doc.linux.seccomp.syscalls[0].comment = 'unknown keys in syscall rules'
  doc.linux.intelRdt.enableCMT = true
  doc.linux.personality.extra = 1
  t.equal(validateConfig(doc), true, fmt(validateConfig.errors))
})

t.test('integer widths at their limits', async t => {
  const doc = baseConfig()
  doc.process.rlimits[0] = { type: 'RLIMIT_NOFILE', soft: 18446744073709551615, hard: 18446744073709551615 }
  doc.process.user.uid = 4294967295
  doc.linux.resources.memory.limit = 9223372036854775807
  doc.linux.resources.pids.limit = -1
  doc.linux.resources.cpu.quota = -1
  doc.linux.resources.blockIO.weight = 65535
  doc.linux.devices[0].major = -1
  doc.linux.timeOffsets.boottime.secs = -9223372036854775808
  t.equal(validateConfig(doc), true, fmt(validateConfig.errors))
})

// ---------------------------------------------------------------------------
// Invalid configs: each is one mutation of the base config, and each must be
// reported as exactly the intended error at exactly the intended path.

interface Case {
  name: string
  mutate: (c: Json) => void
  path: string
  keyword: string
  params?: Record<string, unknown>
}

const invalidConfigs: Case[] = [
  // top level
  { name: 'ociVersion missing', mutate: c => { delete c.ociVersion }, path: '', keyword: 'required', params: { missingProperty: 'ociVersion' } },
  { name: 'ociVersion not SemVer', mutate: c => { c.ociVersion = '1.0' }, path: '/ociVersion', keyword: 'pattern' },
  { name: 'ociVersion with leading zero', mutate: c => { c.ociVersion = '1.02.0' }, path: '/ociVersion', keyword: 'pattern' },
  { name: 'ociVersion is a number', mutate: c => { c.ociVersion = 1.1 }, path: '/ociVersion', keyword: 'type', params: { type: 'string' } },
  { name: 'root missing', mutate: c => { delete c.root }, path: '', keyword: 'required', params: { missingProperty: 'root' } },
  { name: 'root.path missing', mutate: c => { delete c.root.path }, path: '/root', keyword: 'required', params: { missingProperty: 'path' } },
  { name: 'root.readonly not boolean', mutate: c => { c.root.readonly = 'yes' }, path: '/root/readonly', keyword: 'type', params: { type: 'boolean' } },
  { name: 'hostname not string', mutate: c => { c.hostname = 42 }, path: '/hostname', keyword: 'type' },
  { name: 'annotation value not string', mutate: c => { c.annotations['com.example.n'] = 2 }, path: '/annotations/com.example.n', keyword: 'type', params: { type: 'string' } },
  { name: 'annotation key empty', mutate: c => { c.annotations[''] = 'x' }, path: '/annotations', keyword: 'minLength', params: { limit: 1 } },

  // mounts
  { name: 'mounts not an array', mutate: c => { c.mounts = {} }, path: '/mounts', keyword: 'type', params: { type: 'array' } },
  { name: 'mount destination missing', mutate: c => { delete c.mounts[0].destination }, path: '/mounts/0', keyword: 'required', params: { missingProperty: 'destination' } },
  { name: 'mount options not an array', mutate: c => { c.mounts[1].options = 'rbind,rw' }, path: '/mounts/1/options', keyword: 'type' },
  { name: 'mount uidMappings without gidMappings', mutate: c => { delete c.mounts[1].gidMappings }, path: '/mounts/1', keyword: 'dependencies', params: { property: 'uidMappings', missingProperty: 'gidMappings' } },
  { name: 'mount gidMappings without uidMappings', mutate: c => { delete c.mounts[1].uidMappings }, path: '/mounts/1', keyword: 'dependencies', params: { property: 'gidMappings', missingProperty: 'uidMappings' } },
  { name: 'mount id mapping without size', mutate: c => { delete c.mounts[1].uidMappings[0].size }, path: '/mounts/1/uidMappings/0', keyword: 'required', params: { missingProperty: 'size' } },

  // process
  { name: 'process.cwd missing', mutate: c => { delete c.process.cwd }, path: '/process', keyword: 'required', params: { missingProperty: 'cwd' } },
  { name: 'process.cwd relative', mutate: c => { c.process.cwd = 'home' }, path: '/process/cwd', keyword: 'pattern' },
  { name: 'process.args missing', mutate: c => { delete c.process.args }, path: '/process', keyword: 'required', params: { missingProperty: 'args' } },
  { name: 'process.args empty', mutate: c => { c.process.args = [] }, path: '/process/args', keyword: 'minItems', params: { limit: 1 } },
  { name: 'process.env entry not string', mutate: c => { c.process.env[1] = 7 }, path: '/process/env/1', keyword: 'type' },
  { name: 'process.terminal not boolean', mutate: c => { c.process.terminal = 1 }, path: '/process/terminal', keyword: 'type' },
  { name: 'consoleSize.width missing', mutate: c => { delete c.process.consoleSize.width }, path: '/process/consoleSize', keyword: 'required', params: { missingProperty: 'width' } },
  { name: 'user.uid negative', mutate: c => { c.process.user.uid = -1 }, path: '/process/user/uid', keyword: 'minimum' },
  { name: 'user.gid above uint32', mutate: c => { c.process.user.gid = 4294967296 }, path: '/process/user/gid', keyword: 'maximum' },
  { name: 'user.gid missing', mutate: c => { delete c.process.user.gid }, path: '/process/user', keyword: 'required', params: { missingProperty: 'gid' } },
  { name: 'user.additionalGids entry not integer', mutate: c => { c.process.user.additionalGids = ['wheel'] }, path: '/process/user/additionalGids/0', keyword: 'type', params: { type: 'integer' } },
  { name: 'rlimit type not RLIMIT_*', mutate: c => { c.process.rlimits[0].type = 'NOFILE' }, path: '/process/rlimits/0/type', keyword: 'pattern' },
  { name: 'rlimit soft missing', mutate: c => { delete c.process.rlimits[0].soft }, path: '/process/rlimits/0', keyword: 'required', params: { missingProperty: 'soft' } },
  { name: 'rlimit hard negative', mutate: c => { c.process.rlimits[0].hard = -1 }, path: '/process/rlimits/0/hard', keyword: 'minimum' },
  { name: 'capability without CAP_ prefix', mutate: c => { c.process.capabilities.bounding[1] = 'KILL' }, path: '/process/capabilities/bounding/1', keyword: 'pattern' },
  { name: 'capability set not an array', mutate: c => { c.process.capabilities.ambient = 'CAP_KILL' }, path: '/process/capabilities/ambient', keyword: 'type' },
  { name: 'noNewPrivileges as string', mutate: c => { c.process.noNewPrivileges = 'true' }, path: '/process/noNewPrivileges', keyword: 'type' },
  { name: 'oomScoreAdj fractional', mutate: c => { c.process.oomScoreAdj = 1.5 }, path: '/process/oomScoreAdj', keyword: 'type', params: { type: 'integer' } },
  { name: 'scheduler.policy unknown', mutate: c => { c.process.scheduler.policy = 'SCHED_NORMAL' }, path: '/process/scheduler/policy', keyword: 'enum' },
  { name: 'scheduler.policy missing', mutate: c => { delete c.process.scheduler.policy }, path: '/process/scheduler', keyword: 'required', params: { missingProperty: 'policy' } },
  { name: 'scheduler flag unknown', mutate: c => { c.process.scheduler.flags = ['SCHED_FLAG_FOO'] }, path: '/process/scheduler/flags/0', keyword: 'enum' },
  { name: 'scheduler.runtime negative', mutate: c => { c.process.scheduler.runtime = -1 }, path: '/process/scheduler/runtime', keyword: 'minimum' },
  { name: 'ioPriority.priority above 7', mutate: c => { c.process.ioPriority.priority = 8 }, path: '/process/ioPriority/priority', keyword: 'maximum', params: { limit: 7 } },
  { name: 'ioPriority.class unknown', mutate: c => { c.process.ioPriority.class = 'IOPRIO_CLASS_NONE' }, path: '/process/ioPriority/class', keyword: 'enum' },
  { name: 'execCPUAffinity.final not string', mutate: c => { c.process.execCPUAffinity.final = 3 }, path: '/process/execCPUAffinity/final', keyword: 'type' },

  // hooks
  { name: 'hook path missing', mutate: c => { delete c.hooks.prestart[0].path }, path: '/hooks/prestart/0', keyword: 'required', params: { missingProperty: 'path' } },
  { name: 'hook path relative', mutate: c => { c.hooks.createRuntime[0].path = 'bin/hook' }, path: '/hooks/createRuntime/0/path', keyword: 'pattern' },
  { name: 'hook timeout zero', mutate: c => { c.hooks.poststart[0].timeout = 0 }, path: '/hooks/poststart/0/timeout', keyword: 'minimum', params: { limit: 1 } },
  { name: 'hook args not strings', mutate: c => { c.hooks.createContainer[0].args = [1] }, path: '/hooks/createContainer/0/args/0', keyword: 'type' },
  { name: 'startContainer hooks not an array', mutate: c => { c.hooks.startContainer = { path: '/bin/true' } }, path: '/hooks/startContainer', keyword: 'type', params: { type: 'array' } },
  { name: 'poststop hook env not array', mutate: c => { c.hooks.poststop[0].env = 'A=B' }, path: '/hooks/poststop/0/env', keyword: 'type' },

  // linux: namespaces, mappings, devices
  { name: 'linux not an object', mutate: c => { c.linux = [] }, path: '/linux', keyword: 'type', params: { type: 'object' } },
  { name: 'namespace type unknown', mutate: c => { c.linux.namespaces[1].type = 'net' }, path: '/linux/namespaces/1/type', keyword: 'enum' },
  { name: 'namespace type missing', mutate: c => { delete c.linux.namespaces[0].type }, path: '/linux/namespaces/0', keyword: 'required', params: { missingProperty: 'type' } },
  { name: 'namespace path relative', mutate: c => { c.linux.namespaces[1].path = 'netns/neta' }, path: '/linux/namespaces/1/path', keyword: 'pattern' },
  { name: 'uidMappings hostID missing', mutate: c => { delete c.linux.uidMappings[0].hostID }, path: '/linux/uidMappings/0', keyword: 'required', params: { missingProperty: 'hostID' } },
  { name: 'gidMappings size above uint32', mutate: c => { c.linux.gidMappings[0].size = 2 ** 32 }, path: '/linux/gidMappings/0/size', keyword: 'maximum' },
  { name: 'timeOffsets secs not integer', mutate: c => { c.linux.timeOffsets.monotonic.secs = '10' }, path: '/linux/timeOffsets/monotonic/secs', keyword: 'type' },
  { name: 'timeOffsets nanosecs negative', mutate: c => { c.linux.timeOffsets.monotonic.nanosecs = -1 }, path: '/linux/timeOffsets/monotonic/nanosecs', keyword: 'minimum' },
  { name: 'char device without major', mutate: c => { delete c.linux.devices[0].major }, path: '/linux/devices/0', keyword: 'required', params: { missingProperty: 'major' } },
  { name: 'block device without minor', mutate: c => { c.linux.devices[1] = { path: '/dev/sda', type: 'b', major: 8 } }, path: '/linux/devices/1', keyword: 'required', params: { missingProperty: 'minor' } },
  { name: 'device type unknown', mutate: c => { c.linux.devices[0].type = 'x' }, path: '/linux/devices/0/type', keyword: 'enum' },
  { name: 'device path missing', mutate: c => { delete c.linux.devices[1].path }, path: '/linux/devices/1', keyword: 'required', params: { missingProperty: 'path' } },
  { name: 'device fileMode negative', mutate: c => { c.linux.devices[0].fileMode = -438 }, path: '/linux/devices/0/fileMode', keyword: 'minimum' },
  { name: 'netDevices entry not an object', mutate: c => { c.linux.netDevices.eth1 = 'container_eth1' }, path: '/linux/netDevices/eth1', keyword: 'type', params: { type: 'object' } },
  { name: 'netDevices name not string', mutate: c => { c.linux.netDevices.eth1.name = 1 }, path: '/linux/netDevices/eth1/name', keyword: 'type' },
  { name: 'cgroupsPath not string', mutate: c => { c.linux.cgroupsPath = ['/a'] }, path: '/linux/cgroupsPath', keyword: 'type' },

  // linux.resources
  { name: 'device cgroup rule without allow', mutate: c => { delete c.linux.resources.devices[0].allow }, path: '/linux/resources/devices/0', keyword: 'required', params: { missingProperty: 'allow' } },
  { name: 'device cgroup access with x', mutate: c => { c.linux.resources.devices[1].access = 'rwx' }, path: '/linux/resources/devices/1/access', keyword: 'pattern' },
  { name: 'device cgroup type p', mutate: c => { c.linux.resources.devices[1].type = 'p' }, path: '/linux/resources/devices/1/type', keyword: 'enum' },
  { name: 'memory.limit below -1', mutate: c => { c.linux.resources.memory.limit = -2 }, path: '/linux/resources/memory/limit', keyword: 'minimum', params: { limit: -1 } },
  { name: 'memory.swappiness above 100', mutate: c => { c.linux.resources.memory.swappiness = 101 }, path: '/linux/resources/memory/swappiness', keyword: 'maximum', params: { limit: 100 } },
  { name: 'memory.disableOOMKiller not boolean', mutate: c => { c.linux.resources.memory.disableOOMKiller = 0 }, path: '/linux/resources/memory/disableOOMKiller', keyword: 'type' },
  { name: 'cpu.shares negative', mutate: c => { c.linux.resources.cpu.shares = -1 }, path: '/linux/resources/cpu/shares', keyword: 'minimum' },
  { name: 'cpu.cpus not string', mutate: c => { c.linux.resources.cpu.cpus = 3 }, path: '/linux/resources/cpu/cpus', keyword: 'type' },
  { name: 'blockIO.weight above uint16', mutate: c => { c.linux.resources.blockIO.weight = 65536 }, path: '/linux/resources/blockIO/weight', keyword: 'maximum' },
  { name: 'weightDevice with neither weight', mutate: c => { c.linux.resources.blockIO.weightDevice[1] = { major: 8, minor: 16 } }, path: '/linux/resources/blockIO/weightDevice/1', keyword: 'required', params: { missingProperty: 'leafWeight' } },
  { name: 'weightDevice without major', mutate: c => { delete c.linux.resources.blockIO.weightDevice[0].major }, path: '/linux/resources/blockIO/weightDevice/0', keyword: 'required', params: { missingProperty: 'major' } },
  { name: 'throttle entry without rate', mutate: c => { delete c.linux.resources.blockIO.throttleReadBpsDevice[0].rate }, path: '/linux/resources/blockIO/throttleReadBpsDevice/0', keyword: 'required', params: { missingProperty: 'rate' } },
  { name: 'hugepage pageSize without unit', mutate: c => { c.linux.resources.hugepageLimits[0].pageSize = '2M' }, path: '/linux/resources/hugepageLimits/0/pageSize', keyword: 'pattern' },
  { name: 'hugepage limit missing', mutate: c => { delete c.linux.resources.hugepageLimits[0].limit }, path: '/linux/resources/hugepageLimits/0', keyword: 'required', params: { missingProperty: 'limit' } },
  { name: 'network priority without name', mutate: c => { delete c.linux.resources.network.priorities[0].name }, path: '/linux/resources/network/priorities/0', keyword: 'required', params: { missingProperty: 'name' } },
  { name: 'network classID negative', mutate: c => { c.linux.resources.network.classID = -1 }, path: '/linux/resources/network/classID', keyword: 'minimum' },
  { name: 'pids.limit as string', mutate: c => { c.linux.resources.pids.limit = 'max' }, path: '/linux/resources/pids/limit', keyword: 'type' },
  { name: 'rdma entry with no limit', mutate: c => { c.linux.resources.rdma.mlx5_1 = {} }, path: '/linux/resources/rdma/mlx5_1', keyword: 'required', params: { missingProperty: 'hcaObjects' } },
  { name: 'unified value not string', mutate: c => { c.linux.resources.unified['memory.high'] = 1073741824 }, path: '/linux/resources/unified/memory.high', keyword: 'type', params: { type: 'string' } },

  // linux: other sections
  { name: 'sysctl value not string', mutate: c => { c.linux.sysctl['net.ipv4.ip_forward'] = 1 }, path: '/linux/sysctl/net.ipv4.ip_forward', keyword: 'type', params: { type: 'string' } },
  { name: 'intelRdt memBwSchema without MB:', mutate: c => { c.linux.intelRdt.memBwSchema = 'L3:0=20' }, path: '/linux/intelRdt/memBwSchema', keyword: 'pattern' },
  { name: 'intelRdt memBwSchema with newline', mutate: c => { c.linux.intelRdt.memBwSchema = 'MB:0=20\nMB:1=70' }, path: '/linux/intelRdt/memBwSchema', keyword: 'pattern' },
  { name: 'intelRdt schemata line with newline', mutate: c => { c.linux.intelRdt.schemata = ['L3:0=7f0\nMB:0=20'] }, path: '/linux/intelRdt/schemata/0', keyword: 'pattern' },
  { name: 'memoryPolicy mode missing', mutate: c => { delete c.linux.memoryPolicy.mode }, path: '/linux/memoryPolicy', keyword: 'required', params: { missingProperty: 'mode' } },
  { name: 'memoryPolicy mode unknown', mutate: c => { c.linux.memoryPolicy.mode = 'MPOL_SPREAD' }, path: '/linux/memoryPolicy/mode', keyword: 'enum' },
  { name: 'memoryPolicy flag unknown', mutate: c => { c.linux.memoryPolicy.flags = ['MPOL_F_MOF'] }, path: '/linux/memoryPolicy/flags/0', keyword: 'enum' },
  { name: 'seccomp defaultAction missing', mutate: c => { delete c.linux.seccomp.defaultAction }, path: '/linux/seccomp', keyword: 'required', params: { missingProperty: 'defaultAction' } },
  { name: 'seccomp defaultAction unknown', mutate: c => { c.linux.seccomp.defaultAction = 'SCMP_ACT_DENY' }, path: '/linux/seccomp/defaultAction', keyword: 'enum' },
  { name: 'seccomp architecture unknown', mutate: c => { c.linux.seccomp.architectures = ['SCMP_ARCH_AMD64'] }, path: '/linux/seccomp/architectures/0', keyword: 'enum' },
  { name: 'seccomp flag unknown', mutate: c => { c.linux.seccomp.flags = ['SECCOMP_FILTER_FLAG_NEW_LISTENER'] }, path: '/linux/seccomp/flags/0', keyword: 'enum' },
  { name: 'seccomp listenerMetadata without listenerPath', mutate: c => { delete c.linux.seccomp.listenerPath }, path: '/linux/seccomp', keyword: 'dependencies', params: { property: 'listenerMetadata', missingProperty: 'listenerPath' } },
  { name: 'seccomp defaultErrnoRet negative', mutate: c => { c.linux.seccomp.defaultErrnoRet = -1 }, path: '/linux/seccomp/defaultErrnoRet', keyword: 'minimum' },
  { name: 'seccomp syscall names missing', mutate: c => { delete c.linux.seccomp.syscalls[0].names }, path: '/linux/seccomp/syscalls/0', keyword: 'required', params: { missingProperty: 'names' } },
  { name: 'seccomp syscall names empty', mutate: c => { c.linux.seccomp.syscalls[0].names = [] }, path: '/linux/seccomp/syscalls/0/names', keyword: 'minItems' },
  { name: 'seccomp syscall action missing', mutate: c => { delete c.linux.seccomp.syscalls[3].action }, path: '/linux/seccomp/syscalls/3', keyword: 'required', params: { missingProperty: 'action' } },
  { name: 'seccomp syscall action unknown', mutate: c => { c.linux.seccomp.syscalls[0].action = 'allow' }, path: '/linux/seccomp/syscalls/0/action', keyword: 'enum' },
  { name: 'seccomp arg operator unknown', mutate: c => { c.linux.seccomp.syscalls[1].args[0].op = '==' }, path: '/linux/seccomp/syscalls/1/args/0/op', keyword: 'enum' },
  { name: 'seccomp arg value missing', mutate: c => { delete c.linux.seccomp.syscalls[1].args[0].value }, path: '/linux/seccomp/syscalls/1/args/0', keyword: 'required', params: { missingProperty: 'value' } },
  { name: 'seccomp arg index negative', mutate: c => { c.linux.seccomp.syscalls[2].args[0].index = -1 }, path: '/linux/seccomp/syscalls/2/args/0/index', keyword: 'minimum' },
  { name: 'rootfsPropagation unknown', mutate: c => { c.linux.rootfsPropagation = 'recursive' }, path: '/linux/rootfsPropagation', keyword: 'enum' },
  { name: 'maskedPaths entry relative', mutate: c => { c.linux.maskedPaths = ['proc/kcore'] }, path: '/linux/maskedPaths/0', keyword: 'pattern' },
  { name: 'readonlyPaths entry not string', mutate: c => { c.linux.readonlyPaths = [1] }, path: '/linux/readonlyPaths/0', keyword: 'type' },
  { name: 'mountLabel not string', mutate: c => { c.linux.mountLabel = false }, path: '/linux/mountLabel', keyword: 'type' },
  { name: 'personality domain unknown', mutate: c => { c.linux.personality.domain = 'LINUX64' }, path: '/linux/personality/domain', keyword: 'enum' },
  { name: 'personality domain missing', mutate: c => { c.linux.personality = { flags: [] } }, path: '/linux/personality', keyword: 'required', params: { missingProperty: 'domain' } },
]

t.test('invalid configs', async t => {
  t.ok(invalidConfigs.length >= 40, `${invalidConfigs.length} invalid configs`)
  for (const c of invalidConfigs) {
    const doc = baseConfig()
    c.mutate(doc)
    const valid = validateConfig(doc)
    const errors = validateConfig.errors ?? []
    t.test(c.name, async t => {
      t.equal(valid, false, 'is rejected')
      const first = errors[0]
      t.ok(first, 'reports an error')
      if (!first) return
      t.equal(first.instancePath, c.path, `at ${c.path || '(root)'}`)
      t.equal(first.keyword, c.keyword, `by ${c.keyword}: ${first.message}`)
      if (c.params) t.match(first.params, c.params, 'with the intended parameters')
      // One clear error: besides the first, ajv may only add the wrapper
      // error of the same check (propertyNames) on the same path.
      for (const e of errors.slice(1)) {
        t.equal(e.instancePath, c.path, `follow-up error on the same path: ${e.message}`)
      }
    })
  }
})

// ---------------------------------------------------------------------------
// State documents (runtime.md "State")

const stateExample = {
  ociVersion: '0.2.0',
  id: 'oci-container1',
  status: 'running',
  pid: 4422,
  bundle: '/containers/redis',
  annotations: { myKey: 'myValue' },
}

t.test('valid states', async t => {
  const good: [string, Json][] = [
    ['runtime.md example', stateExample],
    ['creating without pid', { ociVersion: '1.2.0', id: 'c', status: 'creating', bundle: '/b' }],
    ['created with pid', { ociVersion: '1.2.0', id: 'c', status: 'created', pid: 1234, bundle: '/b' }],
    ['stopped with pid 0', { ociVersion: '1.2.0', id: 'c', status: 'stopped', pid: 0, bundle: '/b' }],
    ['stopped without pid', { ociVersion: '1.2.0', id: 'c', status: 'stopped', bundle: '/b' }],
    ['paused (runtime-defined) with pid', { ociVersion: '1.2.0', id: 'c', status: 'paused', pid: 99, bundle: '/b' }],
    ['extra runtime properties', { ...stateExample, rootfs: '/containers/redis/rootfs', created: '2024-01-01T00:00:00Z', owner: '' }],
    ['empty annotations', { ...stateExample, annotations: {} }],
  ]
  for (const [name, doc] of good) {
    t.equal(validateState(doc), true, name, { errors: fmt(validateState.errors) })
  }
})

t.test('invalid states', async t => {
  const bad: Case[] = [
    { name: 'id missing', mutate: s => { delete s.id }, path: '', keyword: 'required', params: { missingProperty: 'id' } },
    { name: 'id empty', mutate: s => { s.id = '' }, path: '/id', keyword: 'minLength' },
    { name: 'ociVersion missing', mutate: s => { delete s.ociVersion }, path: '', keyword: 'required', params: { missingProperty: 'ociVersion' } },
    { name: 'ociVersion not SemVer', mutate: s => { s.ociVersion = 'v1' }, path: '/ociVersion', keyword: 'pattern' },
    { name: 'status unknown', mutate: s => { s.status = 'exited' }, path: '/status', keyword: 'enum' },
    { name: 'bundle missing', mutate: s => { delete s.bundle }, path: '', keyword: 'required', params: { missingProperty: 'bundle' } },
    { name: 'bundle relative', mutate: s => { s.bundle = 'containers/redis' }, path: '/bundle', keyword: 'pattern' },
    { name: 'running without pid', mutate: s => { delete s.pid }, path: '', keyword: 'required', params: { missingProperty: 'pid' } },
    { name: 'created without pid', mutate: s => { s.status = 'created'; delete s.pid }, path: '', keyword: 'required', params: { missingProperty: 'pid' } },
    { name: 'running with pid 0', mutate: s => { s.pid = 0 }, path: '/pid', keyword: 'minimum', params: { limit: 1 } },
    { name: 'pid negative', mutate: s => { s.status = 'stopped'; s.pid = -1 }, path: '/pid', keyword: 'minimum', params: { limit: 0 } },
    { name: 'pid not integer', mutate: s => { s.pid = '4422' }, path: '/pid', keyword: 'type' },
    { name: 'annotation value not string', mutate: s => { s.annotations.myKey = true }, path: '/annotations/myKey', keyword: 'type' },
  ]
  for (const c of bad) {
    const doc = clone(stateExample) as Json
    c.mutate(doc)
    const valid = validateState(doc)
    const first = validateState.errors?.[0]
    t.equal(valid, false, `${c.name}: rejected`)
    t.equal(first?.instancePath, c.path, `${c.name}: at ${c.path || '(root)'}`)
    t.equal(first?.keyword, c.keyword, `${c.name}: by ${c.keyword} (${first?.message})`)
    if (c.params) t.match(first?.params, c.params, `${c.name}: intended parameters`)
  }
})

// ---------------------------------------------------------------------------
// Features documents (features.md, features-linux.md)

const featuresExample = {
  ociVersionMin: '1.0.0',
  ociVersionMax: '1.1.0-rc.2',
  hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
  mountOptions: [
    'async', 'atime', 'bind', 'defaults', 'dev', 'diratime', 'dirsync', 'exec', 'iversion', 'lazytime',
    'loud', 'mand', 'noatime', 'nodev', 'nodiratime', 'noexec', 'noiversion', 'nolazytime', 'nomand',
    'norelatime', 'nostrictatime', 'nosuid', 'nosymfollow', 'private', 'ratime', 'rbind', 'rdev',
    'rdiratime', 'relatime', 'remount', 'rexec', 'rnoatime', 'rnodev', 'rnodiratime', 'rnoexec',
    'rnorelatime', 'rnostrictatime', 'rnosuid', 'rnosymfollow', 'ro', 'rprivate', 'rrelatime', 'rro',
    'rrw', 'rshared', 'rslave', 'rstrictatime', 'rsuid', 'rsymfollow', 'runbindable', 'rw', 'shared',
    'silent', 'slave', 'strictatime', 'suid', 'symfollow', 'sync', 'tmpcopyup', 'unbindable',
  ],
  linux: {
    namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts'],
    capabilities: [
      'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
      'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
      'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
      'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
      'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
      'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
      'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
      'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
    ],
    cgroup: { v1: true, v2: true, systemd: true, systemdUser: true, rdma: true },
    seccomp: {
      enabled: true,
      actions: [
        'SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD',
        'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY', 'SCMP_ACT_TRACE', 'SCMP_ACT_TRAP',
      ],
      operators: ['SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_LE', 'SCMP_CMP_LT', 'SCMP_CMP_MASKED_EQ', 'SCMP_CMP_NE'],
      archs: [
        'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM', 'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32',
        'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64',
        'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_RISCV64', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X', 'SCMP_ARCH_X32',
        'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64',
      ],
      knownFlags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_LOG'],
      supportedFlags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_LOG'],
    },
    apparmor: { enabled: true },
    selinux: { enabled: true },
    memoryPolicy: {
      modes: ['MPOL_DEFAULT', 'MPOL_BIND', 'MPOL_INTERLEAVE', 'MPOL_WEIGHTED_INTERLEAVE', 'MPOL_PREFERRED', 'MPOL_PREFERRED_MANY', 'MPOL_LOCAL'],
      flags: ['MPOL_F_NUMA_BALANCING', 'MPOL_F_RELATIVE_NODES', 'MPOL_F_STATIC_NODES'],
    },
    intelRdt: { enabled: true, schemata: true, monitoring: true },
    mountExtensions: { idmap: { enabled: true } },
    netDevices: { enabled: true },
  },
  annotations: {
    'io.github.seccomp.libseccomp.version': '2.5.4',
    'org.opencontainers.runc.checkpoint.enabled': 'true',
    'org.opencontainers.runc.commit': 'v1.1.0-534-g26851168',
    'org.opencontainers.runc.version': '1.1.0+dev',
  },
  potentiallyUnsafeConfigAnnotations: ['com.example.foo.bar', 'org.systemd.property.'],
}

t.test('valid features documents', async t => {
  const good: [string, Json][] = [
    ['features.md full example', featuresExample],
    ['version range only', { ociVersionMin: '1.0.0', ociVersionMax: '1.3.0' }],
    ['null everywhere it is allowed', {
      ociVersionMin: '1.0.0',
      ociVersionMax: '1.3.0',
      hooks: null,
      mountOptions: null,
      annotations: null,
      potentiallyUnsafeConfigAnnotations: null,
      linux: {
        namespaces: null,
        capabilities: null,
        cgroup: { v1: null, v2: true, systemd: null, systemdUser: null, rdma: null },
        seccomp: { enabled: null, actions: null, operators: null, archs: null, knownFlags: null, supportedFlags: null },
        apparmor: null,
        selinux: { enabled: null },
        memoryPolicy: { modes: null, flags: null },
        intelRdt: { enabled: null, schemata: null, monitoring: null },
        mountExtensions: { idmap: null },
        netDevices: null,
      },
    }],
    ['linux null', { ociVersionMin: '1.0.0', ociVersionMax: '1.3.0', linux: null }],
    ['empty values are not null, and are valid', { ociVersionMin: '1.0.0', ociVersionMax: '1.3.0', hooks: [], mountOptions: [], annotations: {}, linux: { namespaces: [], cgroup: {} } }],
  ]
  for (const [name, doc] of good) {
    t.equal(validateFeatures(doc), true, name, { errors: fmt(validateFeatures.errors) })
  }
})

t.test('invalid features documents', async t => {
  const bad: Case[] = [
    { name: 'ociVersionMax missing', mutate: f => { delete f.ociVersionMax }, path: '', keyword: 'required', params: { missingProperty: 'ociVersionMax' } },
    { name: 'ociVersionMin null', mutate: f => { f.ociVersionMin = null }, path: '/ociVersionMin', keyword: 'type' },
    { name: 'ociVersionMin not SemVer', mutate: f => { f.ociVersionMin = '1.0' }, path: '/ociVersionMin', keyword: 'pattern' },
    { name: 'hook name unknown', mutate: f => { f.hooks.push('prestop') }, path: '/hooks/6', keyword: 'enum' },
    { name: 'mountOptions not an array', mutate: f => { f.mountOptions = 'ro,rw' }, path: '/mountOptions', keyword: 'type' },
    { name: 'namespace unknown', mutate: f => { f.linux.namespaces[0] = 'cgroups' }, path: '/linux/namespaces/0', keyword: 'enum' },
    { name: 'capability malformed', mutate: f => { f.linux.capabilities[0] = 'chown' }, path: '/linux/capabilities/0', keyword: 'pattern' },
    { name: 'cgroup.v2 as string', mutate: f => { f.linux.cgroup.v2 = 'yes' }, path: '/linux/cgroup/v2', keyword: 'type' },
    { name: 'seccomp.enabled as number', mutate: f => { f.linux.seccomp.enabled = 1 }, path: '/linux/seccomp/enabled', keyword: 'type' },
    { name: 'seccomp action unknown', mutate: f => { f.linux.seccomp.actions[0] = 'SCMP_ACT_DENY' }, path: '/linux/seccomp/actions/0', keyword: 'enum' },
    { name: 'seccomp arch unknown', mutate: f => { f.linux.seccomp.archs[0] = 'SCMP_ARCH_AMD64' }, path: '/linux/seccomp/archs/0', keyword: 'enum' },
    { name: 'seccomp supportedFlags unknown', mutate: f => { f.linux.seccomp.supportedFlags = ['SECCOMP_FILTER_FLAG_FOO'] }, path: '/linux/seccomp/supportedFlags/0', keyword: 'enum' },
    { name: 'memoryPolicy mode unknown', mutate: f => { f.linux.memoryPolicy.modes[0] = 'MPOL_X' }, path: '/linux/memoryPolicy/modes/0', keyword: 'enum' },
    { name: 'intelRdt not an object', mutate: f => { f.linux.intelRdt = true }, path: '/linux/intelRdt', keyword: 'type' },
    { name: 'idmap.enabled as string', mutate: f => { f.linux.mountExtensions.idmap.enabled = 'true' }, path: '/linux/mountExtensions/idmap/enabled', keyword: 'type' },
    { name: 'annotation value not string', mutate: f => { f.annotations['org.opencontainers.runc.version'] = 1 }, path: '/annotations/org.opencontainers.runc.version', keyword: 'type' },
    { name: 'potentiallyUnsafeConfigAnnotations entry not string', mutate: f => { f.potentiallyUnsafeConfigAnnotations = [null] }, path: '/potentiallyUnsafeConfigAnnotations/0', keyword: 'type' },
  ]
  for (const c of bad) {
    const doc = clone(featuresExample) as Json
    c.mutate(doc)
    const valid = validateFeatures(doc)
    const first = validateFeatures.errors?.[0]
    t.equal(valid, false, `${c.name}: rejected`)
    t.equal(first?.instancePath, c.path, `${c.name}: at ${c.path || '(root)'}`)
    t.equal(first?.keyword, c.keyword, `${c.name}: by ${c.keyword} (${first?.message})`)
    if (c.params) t.match(first?.params, c.params, `${c.name}: intended parameters`)
  }
})

// ---------------------------------------------------------------------------
// Schema documents themselves

t.test('schema documents', async t => {
  for (const [name, schema] of Object.entries(schemas)) {
    t.test(name, async t => {
      t.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#', 'draft-07 dialect')
      t.match(schema.$id, /^https:\/\/.+\/schemas\/[a-z]+\.schema\.json$/, 'has an absolute $id')
      t.type(schema.title, 'string', 'has a title')
      t.type(schema.description, 'string', 'has a description')

      const text = JSON.stringify(schema)
      t.notMatch(text, /"additionalProperties":false/, 'never closes a spec object')
      t.notMatch(text, /"format":/, 'uses no format keyword')
      t.notMatch(text, /"(oneOf|anyOf)":/, 'uses no oneOf/anyOf')

      for (const [defName, def] of Object.entries<Json>(schema.definitions ?? {})) {
        t.equal(def.$id, `#${defName}`, `definition ${defName} has $id`)
        t.type(def.title, 'string', `definition ${defName} has a title`)
      }
    })
  }

  t.test('compiles to standalone code in strict mode', async t => {
    for (const name of Object.keys(schemas)) {
      const ajv = newAjv()
      const validate = ajv.compile(schemas[name])
      const code = standaloneCode(ajv, validate)
      t.ok(code.length > 0, `${name}: standalone code generated`)

      const mod: { exports: Json } = { exports: {} }
      new Function('module', 'exports', 'require', code)(mod, mod.exports, require)
      const standalone = mod.exports.default ?? mod.exports
      t.type(standalone, 'function', `${name}: standalone code evaluates to a validator`)
      if (name === 'config') {
        t.equal(standalone(baseConfig()), true, 'standalone validator accepts the base config')
        const bad = baseConfig()
        bad.process.cwd = 'relative'
        t.equal(standalone(bad), false, 'standalone validator rejects a bad config')
        t.equal(standalone.errors?.[0]?.instancePath, '/process/cwd')
      }
    }
  })

  t.test('all schemas in one Ajv instance, one standalone module', async t => {
    const ajv = newAjv()
    const ids: Record<string, string> = {}
    for (const [name, schema] of Object.entries(schemas)) {
      ajv.addSchema(schema)
      ids[name] = schema.$id
    }
    const code = standaloneCode(ajv, ids)
    const mod: { exports: Json } = { exports: {} }
    new Function('module', 'exports', 'require', code)(mod, mod.exports, require)
    t.same(Object.keys(mod.exports).sort(), ['config', 'features', 'state'])
    t.equal(mod.exports.config(baseConfig()), true, 'config validator works')
    t.equal(mod.exports.state(stateExample), true, 'state validator works')
    t.equal(mod.exports.features(featuresExample), true, 'features validator works')
  })
})
