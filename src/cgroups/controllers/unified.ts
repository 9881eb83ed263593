// linux.resources.unified (config-linux.md "Unified"): cgroup v2 files
// written as given, after the controller each file belongs to (the part of
// its name before the first dot) is enabled down the path. A v1 or hybrid
// host keeps its resources in v1, so there is nothing to write: refused.
import { join } from '../../spec/fieldpath';
import { type Controller, refuse, write } from './controller';

const F = 'linux.resources.unified';
// Files of the cgroup core, which need no controller.
const core = new Set(['cgroup']);
// Core files that would move processes into the container's cgroup (which
// delete then kills) or change its layout under tsrun: not resources.
const notResources = new Set(['cgroup.procs', 'cgroup.threads', 'cgroup.subtree_control', 'cgroup.kill', 'cgroup.freeze']);
const fileName = /^[a-z_]+\.[\w.]+$/;

function entries(r: { unified?: Record<string, string> }): [string, string][] {
  return Object.entries(r.unified ?? {});
}

export const unified: Controller = {
  name: 'unified',
  v2: null,
  handles: [F],
  fields: (r) => entries(r).map(([k]) => join(F, k)),
  // Each controller with the first key that needs it, so that a controller
  // the host lacks is reported with that key. A key that is no file name
  // needs nothing: writes refuses it as such.
  v2Needs(r) {
    const out: { controller: string; field: string }[] = [];
    for (const [key] of entries(r)) {
      const controller = key.split('.')[0];
      if (!fileName.test(key) || core.has(controller) || out.some((n) => n.controller === controller)) continue;
      out.push({ controller, field: join(F, key) });
    }
    return out;
  },
  writes(r, version) {
    return entries(r).map(([key, value]) => {
      const f = join(F, key);
      if (version === 1) refuse(f, 'cgroup v2 files cannot be written on this host, whose resources are in cgroup v1');
      if (!fileName.test(key)) refuse(f, 'is not the name of a cgroup v2 interface file');
      if (notResources.has(key)) refuse(f, 'is not a resource: tsrun places, freezes and kills the container itself');
      return write(key, value, f);
    });
  },
};
