// Every controller tsrun applies, in the order their writes are made.
// What tsrun applies (README, features, the check for unknown fields) is
// derived from this list.
import { blkio } from './blkio';
import type { Controller } from './controller';
import { cpu, cpuset } from './cpu';
import { devices } from './devices';
import { hugetlb } from './hugetlb';
import { memory } from './memory';
import { netCls, netPrio } from './network';
import { pids } from './pids';
import { rdma } from './rdma';
import { unified } from './unified';

export type { Controller, Write } from './controller';

// cpuset before cpu (a realtime budget or quota does not depend on it, but
// a cpuset must be valid before anything runs), unified last so that its
// files override the converted ones, as runc does.
export const controllers: Controller[] = [devices, cpuset, cpu, memory, pids, blkio, hugetlb, netCls, netPrio, rdma, unified];

/** Every linux.resources field some controller applies. */
export const appliedFields: string[] = controllers.flatMap((c) => c.handles);
