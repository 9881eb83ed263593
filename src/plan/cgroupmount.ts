// A mount of type "cgroup" shows the container its own cgroups. With a
// cgroup namespace the kernel gives the right view to a fresh cgroupfs
// mount; without one, the container's cgroup directories are bound in
// (as runc does). On a v1 or hybrid host that is a tmpfs with one entry per
// hierarchy; on a unified host, the cgroup2 filesystem itself.
import { posix } from 'node:path';
import type { CgroupDirRecord } from '../cgroups/manager';
import { type PlanRecord, record, SymlinkWhen } from '../init/protocol';
import { join as field } from '../spec/fieldpath';
import type { Mount } from '../spec/types';
import { bindAttributes, MS, mountDestination, parseOptions } from './mounts';

function dirName(d: CgroupDirRecord): string {
  return d.version === 2 ? 'unified' : d.controllers.map((c) => c.replace(/^name=/, '')).join(',');
}

export function cgroupMountRecords(m: Mount, i: number, dirs: CgroupDirRecord[], mode: 'v1' | 'hybrid' | 'unified', opts: { cgroupNs: boolean; userNs: boolean; tmpfsData?: string }): PlanRecord[] {
  const f = field('mounts', i);
  const p = parseOptions(m.options);
  const dest = mountDestination(m);
  const attrs = bindAttributes(p);
  const flags = p.set & ~MS.REMOUNT;
  const bind = (d: CgroupDirRecord, at: string): PlanRecord =>
    record('BIND', f, { source: d.dir, dest: at, recursive: false, attrSet: attrs.set, attrClear: attrs.clear, rattrSet: 0, rattrClear: 0, propagation: 0, idmapTree: 0 });
  const mount = (fstype: string, at: string, data: string, mflags = flags, source = fstype): PlanRecord =>
    record('MOUNT', f, { source, dest: at, fstype, flags: mflags, data, rattrSet: 0, rattrClear: 0, propagation: 0, attrSet: 0, copyUp: false, xattrLabel: '' });

  if (mode === 'unified') {
    const d = dirs.find((x) => x.version === 2)!;
    return [opts.cgroupNs ? mount('cgroup2', dest, '') : bind(d, dest)];
  }
  // v1 cgroupfs cannot be mounted inside a user namespace: bind there.
  const fresh = opts.cgroupNs && !opts.userNs;
  const records: PlanRecord[] = [mount('tmpfs', dest, opts.tmpfsData ?? 'mode=755', flags & ~MS.RDONLY)];
  for (const d of dirs) {
    const name = dirName(d);
    const at = posix.join(dest, name);
    if (d.version === 2) records.push(fresh ? mount('cgroup2', at, '') : bind(d, at));
    else if (!fresh) records.push(bind(d, at));
    // A named hierarchy (name=systemd) has no controller: "none", and, as
    // runc names it, its name as the source.
    else if (d.controllers.every((c) => c.startsWith('name='))) records.push(mount('cgroup', at, `none,${d.controllers.join(',')}`, flags, name));
    else records.push(mount('cgroup', at, d.controllers.join(',')));
    // A co-mounted hierarchy ("cpu,cpuacct") is also reachable by each name.
    if (d.version === 1 && d.controllers.length > 1) {
      for (const c of d.controllers) {
        records.push(record('SYMLINK', f, { target: name, path: posix.join(dest, c.replace(/^name=/, '')), when: SymlinkWhen.ifAbsent, probe: '' }));
      }
    }
  }
  if (p.set & MS.RDONLY) {
    records.push(mount('', dest, '', MS.REMOUNT | MS.BIND | flags, ''));
  }
  return records;
}
