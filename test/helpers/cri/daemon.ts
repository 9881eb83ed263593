// containerd with its CRI plugin, as a Kubernetes node runs it, but private
// to one test: its own root, state, sockets, CNI network (a bridge of its
// own, host-local addresses kept in the scratch directory) and stream
// server port, and two runtime handlers on the runc shim, `runc` and
// `tsrun`, each with its own runtime root. The teardown leaves nothing of
// it on the host, even when the test failed half-way.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Test } from 'tap';
import { clientCmd, removeNewCgroups, run, stopContainerd, tidyRunContainerd, tsrunWrapper, unmountUnder, waitFor, which, type Wrapper } from '../clients';
import { scratch, tsrunBin } from '../tsrun';
import { PAUSE_IMAGE, importTestImages } from './images';

export const HANDLERS = ['runc', 'tsrun'] as const;
// Where Debian's containernetworking-plugins puts the plugins.
export const CNI_BIN = '/usr/lib/cni';
export type Handler = (typeof HANDLERS)[number];

export interface CriContainerd {
  sock: string;
  ctr: string[];
  /** Each handler's runtime (a wrapper that logs its command lines) and its shim option Root. */
  runtimes: Record<Handler, Wrapper & { root: string }>;
  /** The cgroup parent every pod of this test is put under (removed at teardown). */
  cgroupParent: string;
  /** The first three octets (and the dot) of the pods' addresses. */
  subnetPrefix: string;
  dir: string;
}

/** A TCP port nobody listens on now, for the CRI stream server (exec, attach). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  await new Promise((ok) => server.close(ok));
  return port;
}

/** The runtime the shim runs for handler `name`: a wrapper logging each call, and its own --root. */
function runtimeWrapper(dir: string, name: Handler, binary: string): Wrapper & { root: string } {
  mkdirSync(join(dir, name), { recursive: true });
  return { ...tsrunWrapper(join(dir, name), binary), root: join(dir, name, 'state') };
}

/** The --root the shim gives the runtime: the handler's Root with the containerd namespace appended. */
export function runtimeRoot(rt: { root: string }): string {
  return join(rt.root, 'k8s.io');
}

export async function startCriContainerd(t: Test): Promise<CriContainerd> {
  const w = scratch(t, 'tsrun-cri');
  const cgroupParent = `tsrun-cri-${process.pid}`;
  unmountUnder(t, w);
  removeNewCgroups(t, cgroupParent);
  tidyRunContainerd(t);
  // A bridge and a subnet of this process's own, so two runs do not meet.
  const bridge = `tsruncri${process.pid % 10000}`;
  const subnetPrefix = `10.88.${process.pid % 250}.`;
  const network = `tsrun-cri-${process.pid}`;
  const cniCache = '/var/lib/cni';
  const hadCniCache = existsSync(cniCache);
  t.teardown(() => {
    run(['ip', 'link', 'del', bridge]);
    // libcni keeps each attachment's result in its fixed cache directory.
    const results = join(cniCache, 'results');
    if (existsSync(results)) for (const f of readdirSync(results)) if (f.startsWith(`${network}-`)) rmSync(join(results, f), { force: true });
    if (!hadCniCache) rmSync(cniCache, { recursive: true, force: true });
  });

  const runtimes: CriContainerd['runtimes'] = {
    runc: runtimeWrapper(w, 'runc', which('runc')!),
    tsrun: runtimeWrapper(w, 'tsrun', tsrunBin),
  };
  const cniConf = join(w, 'cni');
  mkdirSync(cniConf);
  writeFileSync(join(cniConf, '10-tsrun-cri.conflist'), JSON.stringify({
    cniVersion: '0.4.0',
    name: network,
    // No gateway, no masquerade: nothing routed, no host sysctl or iptables touched.
    plugins: [{
      type: 'bridge', bridge, isGateway: false, ipMasq: false,
      ipam: { type: 'host-local', dataDir: join(w, 'cni-data'), ranges: [[{ subnet: `${subnetPrefix}0/24` }]] },
    }],
  }));

  const sock = join(w, 'containerd.sock');
  const cri = '[plugins."io.containerd.grpc.v1.cri"';
  const handler = (name: Handler) => [
    `${cri}.containerd.runtimes.${name}]`,
    '  runtime_type = "io.containerd.runc.v2"',
    `${cri}.containerd.runtimes.${name}.options]`,
    `  BinaryName = "${runtimes[name].path}"`,
    `  Root = "${runtimes[name].root}"`,
    '  SystemdCgroup = false',
  ];
  writeFileSync(join(w, 'config.toml'), [
    'version = 2',
    `root = "${join(w, 'root')}"`,
    `state = "${join(w, 'state')}"`,
    '[grpc]',
    `  address = "${sock}"`,
    '[ttrpc]',
    `  address = "${sock}.ttrpc"`,
    `${cri}]`,
    `  sandbox_image = "${PAUSE_IMAGE}"`,
    '  stream_server_address = "127.0.0.1"',
    `  stream_server_port = "${await freePort()}"`,
    // Without CAP_SYS_RESOURCE, an oom_score_adj below containerd's own
    // (the sandbox's -998) cannot be set: clamp it, as rootless nodes do.
    '  restrict_oom_score_adj = true',
    // This host has no AppArmor, so containerd gives no profile either way;
    // said here so that the tests do not depend on how it checks.
    '  disable_apparmor = true',
    // Pod network namespaces in the state directory, not /var/run/netns.
    '  netns_mounts_under_state_dir = true',
    `${cri}.containerd]`,
    '  default_runtime_name = "runc"',
    ...handler('runc'),
    ...handler('tsrun'),
    `${cri}.cni]`,
    `  bin_dir = "${CNI_BIN}"`,
    `  conf_dir = "${cniConf}"`,
    '',
  ].join('\n'));

  const log = join(w, 'containerd.log');
  const [cmd, ...args] = clientCmd([which('containerd')!, '--config', join(w, 'config.toml'), '--log-level', 'info']);
  const daemon = spawn(cmd, args, {
    stdio: ['ignore', 'ignore', openSync(log, 'a')],
  });
  t.teardown(async () => {
    // The daemon and its shims, then what their containers left (each runtime deletes its own).
    await stopContainerd(daemon, sock);
    for (const name of HANDLERS) {
      const rt = runtimes[name];
      const ids = run([rt.path, '--root', runtimeRoot(rt), 'list', '-q']).stdout.split('\n').filter(Boolean);
      for (const id of ids) run([rt.path, '--root', runtimeRoot(rt), 'delete', '--force', id]);
    }
  });
  await waitFor(() => existsSync(sock), 15_000);
  if (!existsSync(sock)) throw new Error(`containerd did not start: ${readFileSync(log, 'utf8').slice(-2000)}`);
  const ctr = [which('ctr')!, '--address', sock];
  importTestImages(join(w, 'images'), ctr);
  return { sock, ctr, runtimes, cgroupParent, subnetPrefix, dir: w };
}
