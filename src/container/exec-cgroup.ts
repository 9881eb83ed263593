// Where an exec'd process goes in the container's cgroups: the container's
// own, or with --cgroup a sub-cgroup of it (runc's flag): "path" for every
// hierarchy, "ctrl[,ctrl]:path" for the v1 hierarchies of those controllers.
// A sub-cgroup must exist and stay below the container's.
import { posix } from 'node:path';
import { TsrunError } from '../errors';
import { type CgroupFs, realCgroupFs } from '../cgroups/fs';
import type { CgroupDirRecord } from '../cgroups/manager';

/** For each of the container's cgroup directories, the one the process joins. */
export function execCgroupDirs(dirs: CgroupDirRecord[], specs: string[], fs: CgroupFs = realCgroupFs): string[] {
  let all: string | undefined;
  const byController = new Map<string, string>();
  for (const s of specs) {
    const colon = s.indexOf(':');
    const path = colon < 0 ? s : s.slice(colon + 1);
    const rel = posix.normalize(`/${path}`).slice(1);
    if (!path || path.split('/').includes('..') || !rel) throw new TsrunError(`${JSON.stringify(s)}: the sub-cgroup must be a path below the container's cgroup`, '--cgroup');
    if (colon < 0) {
      all = rel;
      continue;
    }
    for (const ctrl of s.slice(0, colon).split(',')) {
      if (!dirs.some((d) => d.version === 1 && d.controllers.includes(ctrl))) throw new TsrunError(`${JSON.stringify(s)}: no cgroup v1 hierarchy has the ${ctrl} controller`, '--cgroup');
      byController.set(ctrl, rel);
    }
  }
  return dirs.map((d) => {
    const own = d.controllers.map((c) => byController.get(c)).find((p) => p !== undefined);
    const sub = own ?? all;
    if (sub === undefined) return d.dir;
    const dir = posix.join(d.dir, sub);
    if (fs.read(posix.join(dir, 'cgroup.procs')) === undefined) throw new TsrunError(`sub-cgroup ${dir} does not exist`, '--cgroup');
    return dir;
  });
}

/** Moves pid into those directories. */
export function enterExecCgroups(dirs: string[], pid: number, fs: CgroupFs = realCgroupFs): void {
  for (const dir of dirs) fs.write(posix.join(dir, 'cgroup.procs'), String(pid));
}
