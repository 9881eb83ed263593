// For the build only (scripts/build-code-cache.js): create's steps up to
// the start of tsrun-init, run once so that the container bundle's code
// cache holds their compiled code. Without them in the cache, every create
// compiled them again (about 3.5 ms). Nothing on the host changes: the
// bundle and the state root are the caller's scratch directories, the
// cgroup tree is in memory (laid out as this host's hierarchies are, which
// are only read), and no process is started.
import { unlinkSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { CgroupFs } from '../cgroups/fs';
import { cgroupManager, planCgroups } from '../cgroups/manager';
import { encodePlan } from '../init/protocol';
import { native } from '../native/addon';
import { startTimeOf } from '../state/proc';
import { ContainerDir, writeFileAtomic } from '../state/store';
import { newRecord, prepare } from './create';

/** A cgroup tree in memory, of the hierarchies mounted at `mountpoints`: directories appear on mkdir, files hold what was written. */
function memoryCgroupFs(mountpoints: string[]): CgroupFs {
  const dirs = new Set<string>();
  const files = new Map<string, string>();
  const mkdirAll = (dir: string) => {
    let top: string | undefined;
    for (let d = dir; !dirs.has(d) && d !== posix.dirname(d); d = posix.dirname(d)) dirs.add((top = d));
    return top;
  };
  for (const m of mountpoints) mkdirAll(m);
  return {
    mkdir: (dir) => !dirs.has(dir) && !!dirs.add(dir),
    mkdirAll,
    rmdir: (dir) => void dirs.delete(dir),
    read: (file) => files.get(file) ?? (dirs.has(posix.dirname(file)) ? '' : undefined),
    write: (file, value) => void files.set(file, value),
    writeEach: (file, values) => void files.set(file, values[values.length - 1]),
    exists: (dir) => dirs.has(dir),
    hasChildren: (dir) => [...dirs].some((d) => d.startsWith(`${dir}/`)),
    attachDeviceProgram: () => undefined,
  };
}

/** Plans a container of the bundle at `bundle`, keeps its state in `root` and creates its cgroups in memory, then removes it; the encoded plan's size. */
export function rehearseCreate(root: string, bundle: string): number {
  const opts = { root, id: 'rehearsal', bundle, noPivot: false, noNewKeyring: false, preserveFds: 0 };
  const { spec, bundleDir, plan } = prepare(opts);
  const dir = ContainerDir.create(root, opts.id);
  try {
    const fs = memoryCgroupFs(plan.cgroupDirs.map((d) => d.mountpoint));
    const record = newRecord(opts, spec, bundleDir, plan, planCgroups(plan.cgroupDirs, spec.linux?.cgroupsPath === undefined, fs));
    dir.write(record);
    native().mkfifo(dir.fifoPath, 0o622);
    const cgroups = cgroupManager(record.cgroup, fs);
    cgroups.create(spec.linux?.resources);
    cgroups.apply(spec.linux?.resources);
    record.init = { pid: process.pid, startTime: startTimeOf(process.pid) ?? '' };
    record.phase = 'created';
    dir.write(record);
    const pidFile = join(root, 'rehearsal.pid');
    writeFileAtomic(pidFile, String(process.pid));
    unlinkSync(pidFile);
    return encodePlan(plan.records, { execFifo: 0 }).length;
  } finally {
    dir.remove();
    dir.unlock();
  }
}
