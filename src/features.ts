// The features document (features.md, features-linux.md): what this tsrun
// implements, fixed by its code rather than by the host. Anything listed
// here works; what is not implemented is left out or marked disabled.
import { CLONE } from './plan/clone';
import { capabilityNames } from './plan/capabilities';
import { memoryPolicyFlags, memoryPolicyModes } from './plan/mempolicy';
import { recognizedMountOptions } from './plan/mounts';
import { seccompFeatures } from './plan/seccomp';
import { supportedVersions } from './spec/semantic';
import { specVersion } from './spec/version';
import { hookStages } from './spec/types';

export function featuresDocument(): Record<string, unknown> {
  return {
    ociVersionMin: supportedVersions.min,
    ociVersionMax: specVersion,
    hooks: [...hookStages],
    mountOptions: recognizedMountOptions(),
    linux: {
      namespaces: Object.keys(CLONE).sort(),
      capabilities: [...capabilityNames],
      // Each true here is backed by a check of it at work. v1: the
      // conformance suite's linux.resources cases and features.cgroup read
      // every setting back from the container's own cgroup on a v1 host. v2:
      // the same managers run against a fake unified tree in the unit tests,
      // and the device allowlist's BPF program is attached on a real cgroup2
      // in the integration tests; unified hosts are supported by design.
      // systemd, systemdUser: there is no systemd cgroup manager
      // (--systemd-cgroup and a "slice:prefix:name" cgroupsPath are refused). rdma: the controller module
      // writes rdma.max, but no case has used it — the hosts the suite runs
      // on have no rdma controller and no RDMA device — so it is not claimed.
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: false },
      seccomp: seccompFeatures,
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      memoryPolicy: { modes: Object.keys(memoryPolicyModes), flags: Object.keys(memoryPolicyFlags) },
      mountExtensions: { idmap: { enabled: true } },
      netDevices: { enabled: true },
    },
  };
}
