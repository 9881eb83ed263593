// For the build only (scripts/build-code-cache.js): create's planning and
// cgroup steps, run once so that the container bundle's code cache holds
// their compiled code. Without them in the cache, every create compiled
// them again (about 3.5 ms). Nothing on the host changes: the bundle is
// the caller's scratch directory, the cgroup tree is in memory (laid out
// as this host's hierarchies are, which are only read), and no process is
// started.
import { posix } from 'node:path';
import type { CgroupFs } from '../cgroups/fs';
import { cgroupManager, planCgroups } from '../cgroups/manager';
import { encodePlan } from '../init/protocol';
import { prepare } from './create';

/** A cgroup tree in memory: directories appear on mkdir, files hold what was written. */
function memoryCgroupFs(): CgroupFs {
  const dirs = new Set<string>();
  const files = new Map<string, string>();
  return {
    mkdir: (dir) => !dirs.has(dir) && !!dirs.add(dir),
    rmdir: (dir) => void dirs.delete(dir),
    read: (file) => files.get(file) ?? (dirs.has(posix.dirname(file)) ? '' : undefined),
    write: (file, value) => void files.set(file, value),
    writeEach: (file, values) => void files.set(file, values[values.length - 1]),
    exists: (dir) => dirs.has(dir),
    hasChildren: (dir) => [...dirs].some((d) => d.startsWith(`${dir}/`)),
    attachDeviceProgram: () => undefined,
  };
}

/** Plans a container of the bundle at `bundle` and creates its cgroups in memory; the encoded plan's size. */
export function rehearseCreate(root: string, bundle: string): number {
  const { spec, plan } = prepare({ root, id: 'rehearsal', bundle, noPivot: false, noNewKeyring: false, preserveFds: 0 });
  const fs = memoryCgroupFs();
  const cgroups = cgroupManager(planCgroups(plan.cgroupDirs, spec.linux?.cgroupsPath === undefined, fs), fs);
  cgroups.create(spec.linux?.resources);
  cgroups.apply(spec.linux?.resources);
  JSON.stringify({ config: spec, cgroup: cgroups.record });
  return encodePlan(plan.records, { execFifo: 0 }).length;
}
