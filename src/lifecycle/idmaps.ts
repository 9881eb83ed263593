// The id maps of the container's new user namespace, written for the
// process that made it (user_namespaces(7)). Root writes them as they are.
// An unprivileged user may write only a map of its own id (the gid map
// after "deny" in setgroups, which the container cannot undo); any other
// map goes through newuidmap and newgidmap, which grant what /etc/subuid
// and /etc/subgid allow it (as runc does).
import { writeFileSync } from 'node:fs';
import { TsrunError, messageOf } from '../errors';

/** "c h s" lines as newuidmap's arguments. */
const mapArgs = (map: string) => map.trim().split(/\s+/);

/** Whether the map is the one line a user may write for itself: one id, its own. */
const ownIdOnly = (map: string, id: number) => /^\d+ (\d+) 1$/.exec(map.trim())?.[1] === String(id);

function viaHelper(tool: string, pid: number, map: string, field: string): void {
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const r = spawnSync(tool, [String(pid), ...mapArgs(map)], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.error) throw new TsrunError(`cannot run ${tool} (an unprivileged user needs it to map ids other than its own; install uidmap): ${messageOf(r.error)}`, field);
  if (r.status !== 0) throw new TsrunError(`${tool} refused the mapping: ${r.stderr.trim() || `exit status ${r.status}`} (see /etc/sub${tool === 'newuidmap' ? 'uid' : 'gid'})`, field);
}

export function writeIdMaps(pid: number, maps: { uid: string; gid: string }): void {
  const euid = process.geteuid?.() ?? 0;
  if (euid === 0) {
    writeFileSync(`/proc/${pid}/uid_map`, maps.uid);
    writeFileSync(`/proc/${pid}/gid_map`, maps.gid);
    return;
  }
  if (ownIdOnly(maps.uid, euid)) writeFileSync(`/proc/${pid}/uid_map`, maps.uid);
  else viaHelper('newuidmap', pid, maps.uid, 'linux.uidMappings');
  if (ownIdOnly(maps.gid, process.getegid?.() ?? 0)) {
    writeFileSync(`/proc/${pid}/setgroups`, 'deny');
    writeFileSync(`/proc/${pid}/gid_map`, maps.gid);
  } else {
    viaHelper('newgidmap', pid, maps.gid, 'linux.gidMappings');
  }
}
