// The features document (features.md, features-linux.md): what this tsrun
// implements, fixed by its code rather than by the host. Anything listed
// here works; what is not implemented is left out or marked disabled.
import { CLONE } from './plan/clone';
import { capabilityNames } from './plan/capabilities';
import { recognizedMountOptions } from './plan/mounts';
import { seccompFeatures } from './plan/seccomp';
import { supportedVersions } from './spec/semantic';
import { specVersion } from './state/status';
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
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: false },
      seccomp: seccompFeatures,
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
      netDevices: { enabled: false },
    },
  };
}
