// Schema and semantic validation of config.json (no root needed): every
// config real generators wrote is accepted; each broken one is refused with
// the field named (config.md, config-linux.md).
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { validateSpec } from '../../src/spec/load';
import { defaultSpec } from '../../src/spec/default';
import { TsrunError } from '../../src/errors';

const corpusDir = join(__dirname, '..', '..', 'conformance', 'corpus');
const bundle = mkdtempSync(join(tmpdir(), 'tsrun-unit-'));
mkdirSync(join(bundle, 'rootfs'));
t.teardown(() => rmSync(bundle, { recursive: true, force: true }));

type Config = Record<string, any>;

/** A config from a generator, pointed at a rootfs that exists on this machine. */
function onThisHost(config: Config): Config {
  return { ...config, root: { ...config.root, path: 'rootfs' } };
}

function refusal(config: unknown): string {
  try {
    validateSpec(config, bundle);
  } catch (err) {
    if (err instanceof TsrunError) return err.message;
    throw err;
  }
  return '';
}

const base = (): Config => onThisHost(JSON.parse(JSON.stringify(defaultSpec({ rootless: false, uid: 0, gid: 0 }))));

// crun's rootless spec has a user namespace without mappings and leaves
// crun to invent them; tsrun, like runc, wants them in the config.
const refusedByDesign: Record<string, RegExp> = {
  'crun-spec-rootless.json': /linux\.uidMappings: is required with a new user namespace/,
  'crun-spec-rootless-uid1000.json': /linux\.uidMappings: is required with a new user namespace/,
};

t.test('configs from real generators are accepted', async (t) => {
  const files = readdirSync(corpusDir).filter((f) => f.endsWith('.json'));
  t.ok(files.length >= 30, `a corpus of at least 30 configs (${files.length})`);
  for (const f of files) {
    const config = JSON.parse(readFileSync(join(corpusDir, f), 'utf8'));
    if (refusedByDesign[f]) t.match(refusal(onThisHost(config)), refusedByDesign[f], `${f}: refused, as runc does`);
    else t.equal(refusal(onThisHost(config)), '', f);
  }
  t.equal(refusal(base()), '', 'tsrun spec');
  t.equal(refusal(onThisHost(defaultSpec({ rootless: true, uid: 1000, gid: 1000 }))), '', 'tsrun spec --rootless');
});

t.test('ociVersion range 1.0.0 to 1.3.x', async (t) => {
  for (const v of ['1.0.0', '1.0.2-dev', '1.1.0', '1.2.1', '1.3.0', '1.3.7+build']) t.equal(refusal({ ...base(), ociVersion: v }), '', `${v} accepted`);
  for (const v of ['1.4.0', '2.0.0', '0.9.0']) t.match(refusal({ ...base(), ociVersion: v }), /ociVersion: .* is not supported/, `${v} refused`);
  t.match(refusal({ ...base(), ociVersion: 'one' }), /ociVersion: /, 'not SemVer');
});

t.test('root.path: a directory, or a link to one', async (t) => {
  writeFileSync(join(bundle, 'a-file'), '');
  symlinkSync('rootfs', join(bundle, 'link-to-dir'));
  symlinkSync('a-file', join(bundle, 'link-to-file'));
  symlinkSync('nowhere', join(bundle, 'dangling'));
  const root = (path: string) => refusal({ ...base(), root: { path } });
  t.equal(root('rootfs'), '', 'a directory');
  t.equal(root('link-to-dir'), '', 'a link to a directory');
  t.equal(root(bundle), '', 'an absolute path');
  for (const path of ['a-file', 'link-to-file', 'dangling', 'missing']) t.match(root(path), new RegExp(`root\\.path: .*${path} is not a directory`), path);
});

// [what, mutation, expected message]
const bad: [string, (c: Config) => void, RegExp][] = [
  ['no ociVersion', (c) => delete c.ociVersion, /ociVersion: is required/],
  ['no root', (c) => delete c.root, /root: is required/],
  ['root.path not a string', (c) => (c.root.path = 7), /root\.path: must be string/],
  ['rootfs missing', (c) => (c.root.path = 'nope'), /root\.path: .*nope is not a directory/],
  ['root.readonly not a boolean', (c) => (c.root.readonly = 'yes'), /root\.readonly: must be boolean/],
  ['no process', (c) => delete c.process, /process: is required to create a container/],
  ['empty args', (c) => (c.process.args = []), /process\.args: must NOT have fewer than 1 items/],
  ['args not strings', (c) => (c.process.args = ['sh', 3]), /process\.args\[1\]: must be string/],
  ['no cwd', (c) => delete c.process.cwd, /process\.cwd: is required/],
  ['relative cwd', (c) => (c.process.cwd = 'tmp'), /process\.cwd: /],
  ['negative uid', (c) => (c.process.user.uid = -1), /process\.user\.uid: /],
  ['user without gid', (c) => (c.process.user = { uid: 1 }), /process\.user\.gid: is required/],
  ['env not strings', (c) => (c.process.env = [1]), /process\.env\[0\]: must be string/],
  ['NUL in an argument', (c) => (c.process.args = ['sh', 'a\u0000b']), /process\.args\[1\]: must not contain a NUL byte/],
  ['terminal not a boolean', (c) => (c.process.terminal = 1), /process\.terminal: must be boolean/],
  ['consoleSize without width', (c) => (c.process.consoleSize = { height: 1 }), /process\.consoleSize\.width: is required/],
  ['rlimit without hard', (c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1 }]), /process\.rlimits\[0\]\.hard: is required/],
  ['unknown rlimit', (c) => (c.process.rlimits = [{ type: 'RLIMIT_FOO', soft: 1, hard: 1 }]), /process\.rlimits\[0\]\.type/],
  ['duplicate rlimits', (c) => (c.process.rlimits = [{ type: 'RLIMIT_CORE', soft: 1, hard: 1 }, { type: 'RLIMIT_CORE', soft: 1, hard: 1 }]), /process\.rlimits\[1\]\.type: duplicates process\.rlimits\[0\]/],
  ['soft above hard', (c) => (c.process.rlimits = [{ type: 'RLIMIT_CORE', soft: 2, hard: 1 }]), /process\.rlimits\[0\]\.soft: exceeds hard/],
  ['capability not a string', (c) => (c.process.capabilities.bounding = [1]), /process\.capabilities\.bounding\[0\]: /],
  ['mount without destination', (c) => c.mounts.push({ type: 'tmpfs', source: 'tmpfs' }), /mounts\[7\]\.destination: is required/],
  ['mount options not strings', (c) => c.mounts.push({ destination: '/x', type: 'tmpfs', options: [1] }), /mounts\[7\]\.options\[0\]: must be string/],
  // config.md "Mounts": idmap without mappings of the mount's own takes the
  // user namespace's, and without one is an error; a bind mount only (runc).
  ['idmap without mappings or a user namespace', (c) => c.mounts.push({ destination: '/x', type: 'bind', source: '/tmp', options: ['rbind', 'idmap'] }), /mounts\[7\]\.options\[1\]: needs uidMappings and gidMappings on the mount, or a user namespace to take the mappings of/],
  ['an idmapped tmpfs', (c) => c.mounts.push({ destination: '/x', type: 'tmpfs', source: 'tmpfs', options: ['ridmap'], uidMappings: [{ containerID: 0, hostID: 1, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1, size: 1 }] }), /mounts\[7\]\.options\[0\]: an idmapped mount must be a bind mount/],
  ['uidMappings without gidMappings', (c) => c.mounts.push({ destination: '/x', type: 'bind', source: '/tmp', options: ['rbind'], uidMappings: [{ containerID: 0, hostID: 1, size: 1 }], gidMappings: [] }), /mounts\[7\]\.gidMappings: an idmapped mount needs both uidMappings and gidMappings/],
  ['unknown namespace type', (c) => c.linux.namespaces.push({ type: 'foo' }), /linux\.namespaces\[5\]\.type: must be one of/],
  ['namespace twice', (c) => c.linux.namespaces.push({ type: 'pid' }), /linux\.namespaces\[5\]\.type: pid namespace is listed twice/],
  ['relative namespace path', (c) => (c.linux.namespaces[0].path = 'proc/1/ns/pid'), /linux\.namespaces\[0\]\.path/],
  ['user namespace without mappings', (c) => c.linux.namespaces.push({ type: 'user' }), /linux\.uidMappings: is required with a new user namespace/],
  ['mappings without a user namespace', (c) => (c.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]), /linux\.uidMappings: needs a user namespace/],
  ['mapping without size', (c) => (c.linux.uidMappings = [{ containerID: 0, hostID: 1 }]), /linux\.uidMappings\[0\]\.size: is required/],
  // runtime-spec config-linux.md "Namespaces" allows inheriting the mount namespace; tsrun refuses it (see semantic.ts).
  ['no mount namespace', (c) => (c.linux.namespaces = c.linux.namespaces.filter((n: Config) => n.type !== 'mount')), /linux\.namespaces: needs a mount namespace/],
  ['hostname without uts', (c) => (c.linux.namespaces = c.linux.namespaces.filter((n: Config) => n.type !== 'uts')), /hostname: needs a uts namespace/],
  ['time offsets without a time namespace', (c) => (c.linux.timeOffsets = { monotonic: { secs: 1 } }), /linux\.timeOffsets: needs a new time namespace/],
  ['unknown clock', (c) => {
    c.linux.namespaces.push({ type: 'time' });
    c.linux.timeOffsets = { realtime: { secs: 1 } };
  }, /linux\.timeOffsets\.realtime: is not a clock of a time namespace/],
  ['device without major', (c) => (c.linux.devices = [{ path: '/dev/x', type: 'c', minor: 1 }]), /linux\.devices\[0\]/],
  ['device of unknown type', (c) => (c.linux.devices = [{ path: '/dev/x', type: 'z', major: 1, minor: 1 }]), /linux\.devices\[0\]\.type: must be one of/],
  ['relative device path', (c) => (c.linux.devices = [{ path: 'dev/x', type: 'c', major: 1, minor: 1 }]), /linux\.devices\[0\]\.path/],
  ['relative masked path', (c) => (c.linux.maskedPaths = ['proc/kcore']), /linux\.maskedPaths\[0\]/],
  ['relative readonly path', (c) => (c.linux.readonlyPaths = ['proc/sys']), /linux\.readonlyPaths\[0\]/],
  ['cgroupsPath with ..', (c) => (c.linux.cgroupsPath = '/a/../b'), /linux\.cgroupsPath: must not contain "\.\."/],
  ['systemd cgroupsPath', (c) => (c.linux.cgroupsPath = 'system.slice:tsrun:abc'), /linux\.cgroupsPath: is in systemd form/],
  ['memory limit not a number', (c) => (c.linux.resources = { memory: { limit: '1G' } }), /linux\.resources\.memory\.limit: must be integer/],
  ['host sysctl', (c) => (c.linux.sysctl = { 'vm.swappiness': '1' }), /linux\.sysctl\["vm\.swappiness"\]: is not in a separate kernel namespace/],
  ['net sysctl without a network namespace', (c) => {
    c.linux.namespaces = c.linux.namespaces.filter((n: Config) => n.type !== 'network');
    c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
  }, /linux\.sysctl\["net\.ipv4\.ip_forward"\]: needs a network namespace/],
  // runc's rule: the namespace a sysctl writes to must not be the host's.
  ...(
    [
      ['network', 'net', 'net.ipv4.ip_forward'],
      ['ipc', 'ipc', 'kernel.shmmax'],
      ['ipc', 'ipc', 'fs.mqueue.msg_max'],
      ['uts', 'uts', 'kernel.domainname'],
    ] as const
  ).map(([type, file, key]): [string, (c: Config) => void, RegExp] => [
    `${key} in the host's own ${type} namespace`,
    (c) => {
      c.linux.namespaces = [...c.linux.namespaces.filter((n: Config) => n.type !== type), { type, path: `/proc/${process.pid}/ns/${file}` }];
      c.linux.sysctl = { [key]: '1' };
    },
    new RegExp(`linux\\.sysctl\\["${key.replace(/\./g, '\\.')}"\\]: needs an? ${type} namespace other than the host's: /proc/\\d+/ns/${file} is the runtime's own`),
  ]),
  // config-linux.md "Network Devices"; names by the kernel's dev_valid_name,
  // checked before anything moves (the kernel renames after the move).
  ['netDevices without a network namespace', (c) => {
    c.linux.namespaces = c.linux.namespaces.filter((n: Config) => n.type !== 'network');
    c.linux.netDevices = { eth1: {} };
  }, / linux\.netDevices: needs a network namespace to move the devices into$/m],
  ['netDevices into the runtime\'s own network namespace', (c) => {
    c.linux.namespaces = [...c.linux.namespaces.filter((n: Config) => n.type !== 'network'), { type: 'network', path: `/proc/${process.pid}/ns/net` }];
    c.linux.netDevices = { eth1: {} };
  }, /linux\.netDevices: needs a network namespace other than the host's: \/proc\/\d+\/ns\/net is the runtime's own/],
  ['a netDevices name too long', (c) => (c.linux.netDevices = { eth1: { name: 'a'.repeat(16) } }), /linux\.netDevices\.eth1\.name: must be 1 to 15 bytes long/],
  ['a netDevices name with a colon', (c) => (c.linux.netDevices = { eth1: { name: 'eth1:0' } }), /linux\.netDevices\.eth1\.name: must not contain "\/", ":" or white space/],
  ['a netDevices name of two dots', (c) => (c.linux.netDevices = { eth1: { name: '..' } }), /linux\.netDevices\.eth1\.name: "\.\." is not a valid interface name/],
  ['a netDevices name with %s', (c) => (c.linux.netDevices = { eth1: { name: 'e%s' } }), /linux\.netDevices\.eth1\.name: may contain "%" only once, as "%d"/],
  ['a netDevices host name with %', (c) => (c.linux.netDevices = { 'e%d': {} }), /linux\.netDevices\["e%d"\]: the host interface name must not contain "%"/],
  ['two netDevices with one name', (c) => (c.linux.netDevices = { eth1: { name: 'x0' }, eth2: { name: 'x0' } }), /linux\.netDevices\.eth2: is named x0 in the container, as eth1 is/],
  ['oomScoreAdj out of the kernel range', (c) => (c.process.oomScoreAdj = 5000), /process\.oomScoreAdj: must be <= 1000/],
  ['an empty id mapping', (c) => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 0 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
  }, /linux\.uidMappings\[0\]\.size: must be >= 1/],
  ['a NUL byte in root.path', (c) => (c.root.path = 'root\0fs'), /^invalid config\.json:\n {2}root\.path: must not contain a NUL byte$/],
  ['a NUL byte in cgroupsPath', (c) => (c.linux.cgroupsPath = '/a\0b'), /linux\.cgroupsPath: must not contain a NUL byte/],
  ['a NUL byte in an argument', (c) => (c.process.args = ['sh', '-c', 'x\0y']), /process\.args\[2\]: must not contain a NUL byte/],
  ['a NUL byte in an annotation key', (c) => (c.annotations = { 'a\0b': 'v' }), /annotations: must not have a key with a NUL byte: "a\\u0000b"/],
  ['sysctl value not a string', (c) => (c.linux.sysctl = { 'net.ipv4.ip_forward': 1 }), /linux\.sysctl\["net\.ipv4\.ip_forward"\]: must be string/],
  ['unknown rootfsPropagation', (c) => (c.linux.rootfsPropagation = 'sideways'), /linux\.rootfsPropagation: must be one of/],
  ['unknown seccomp action', (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_NOPE' }), /linux\.seccomp\.defaultAction: must be one of/],
  ['personality domain', (c) => (c.linux.personality = { domain: 'WINDOWS' }), /linux\.personality\.domain: must be one of/],
  ['relative hook path', (c) => (c.hooks = { prestart: [{ path: 'bin/true' }] }), /hooks\.prestart\[0\]\.path/],
  ['hook timeout 0', (c) => (c.hooks = { poststop: [{ path: '/bin/true', timeout: 0 }] }), /hooks\.poststop\[0\]\.timeout/],
  ['annotation value not a string', (c) => (c.annotations = { 'com.example': 1 }), /annotations\["com\.example"\]: must be string/],
];

t.test('broken configs are refused, naming the field', async (t) => {
  for (const [what, mutate, expected] of bad) {
    const c = base();
    mutate(c);
    const message = refusal(c);
    t.match(message, /^invalid config\.json:\n/, `${what}: refused`);
    t.match(message, expected, `${what}: names the field and the reason`);
    t.notOk(message.includes('\0'), `${what}: no raw NUL byte is echoed`);
  }
});

t.test('unknown properties are ignored (config.md "Extensibility")', async (t) => {
  const c = base();
  c.somethingNew = { x: 1 };
  c.process.futureField = true;
  c.linux.futureThing = [];
  c.windows = { layerFolders: [] };
  t.equal(refusal(c), '');
});
