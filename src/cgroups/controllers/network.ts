// linux.resources.network (config-linux.md "Network"): cgroup v1's net_cls
// (classID -> net_cls.classid) and net_prio (priorities -> one
// "<interface> <priority>" line each in net_prio.ifpriomap). cgroup v2 has
// neither controller (traffic is classified by cgroup path there): refused.
import { join } from '../../spec/fieldpath';
import { type Controller, int, refuse, write } from './controller';

const F = 'linux.resources.network';
type Network = { classID?: number; priorities?: { name: string; priority: number }[] };
const own = (r: { network?: Record<string, unknown> }) => r.network as Network | undefined;

export const netCls: Controller = {
  name: 'net_cls',
  v1: 'net_cls',
  handles: [`${F}.classID`],
  fields: (r) => (own(r)?.classID !== undefined && own(r)?.classID !== null ? [`${F}.classID`] : []),
  writes(r, version) {
    const id = own(r)?.classID;
    if (id === undefined || id === null) return [];
    if (version === 2) refuse(`${F}.classID`, 'cgroup v2 has no net_cls controller');
    return [write('net_cls.classid', int(id), `${F}.classID`)];
  },
};

export const netPrio: Controller = {
  name: 'net_prio',
  v1: 'net_prio',
  handles: [`${F}.priorities`],
  fields: (r) => (own(r)?.priorities?.length ? [`${F}.priorities`] : []),
  writes(r, version) {
    const list = own(r)?.priorities ?? [];
    if (list.length && version === 2) refuse(`${F}.priorities`, 'cgroup v2 has no net_prio controller');
    return list.map((p, i) => write('net_prio.ifpriomap', `${p.name} ${int(p.priority)}`, join(`${F}.priorities`, i)));
  },
};
