// Where an exec'd process goes in the container's cgroups: the container's
// own, or with --cgroup a sub-cgroup of it (runc's flag): "path" for every
// hierarchy, "ctrl[,ctrl]:path" for the v1 hierarchies of those controllers.
// A sub-cgroup must exist and stay below the container's.
import { posix } from 'node:path';
import { TsrunError } from '../errors';
import { type CgroupFs, realCgroupFs } from '../cgroups/fs';
import { type CgroupDirRecord, type JoinDirs, joinDirs } from '../cgroups/manager';

/** For each of the container's cgroup directories, the one the process joins. */
export function execCgroupDirs(dirs: CgroupDirRecord[], specs: string[], fs: CgroupFs = realCgroupFs): JoinDirs {
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
  return joinDirs(
    dirs.map((d) => {
      const own = d.controllers.map((c) => byController.get(c)).find((p) => p !== undefined);
      const sub = own ?? all;
      if (sub === undefined) return d;
      const dir = posix.join(d.dir, sub);
      if (fs.read(posix.join(dir, 'cgroup.procs')) === undefined) throw new TsrunError(`sub-cgroup ${dir} does not exist`, '--cgroup');
      return { version: d.version, dir };
    }),
  );
}

/**
 * Moves pid into those directories by writing it to their cgroup.procs.
 * Only for a paused container: tsrun-init joining a frozen cgroup itself
 * would be frozen before it could tell tsrun, which waits for that holding
 * the container's lock, which resume needs.
 */
export function enterExecCgroups(dirs: JoinDirs, pid: number, fs: CgroupFs = realCgroupFs): void {
  for (const dir of [...dirs.v1, ...(dirs.v2 === undefined ? [] : [dirs.v2])]) fs.write(posix.join(dir, 'cgroup.procs'), String(pid));
}
