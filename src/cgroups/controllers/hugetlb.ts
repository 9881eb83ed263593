// linux.resources.hugepageLimits (config-linux.md "Huge page limits").
// v1: hugetlb.<size>.limit_in_bytes; v2: hugetlb.<size>.max. Where the
// kernel has reservation accounting (hugetlb.<size>.rsvd.limit_in_bytes,
// hugetlb.<size>.rsvd.max), the reservation limit is set too, as the spec
// prefers. A page size this host does not have is refused by the manager
// (no such file).
import { join } from '../../spec/fieldpath';
import { type Controller, type Write, int, refuse, write } from './controller';

const F = 'linux.resources.hugepageLimits';

export const hugetlb: Controller = {
  name: 'hugetlb',
  v1: 'hugetlb',
  v2: 'hugetlb',
  handles: [F],
  fields: (r) => ((r.hugepageLimits ?? []).length ? [F] : []),
  writes(r, version, current) {
    const out: Write[] = [];
    ((r.hugepageLimits ?? []) as { pageSize: string; limit: number }[]).forEach((h, i) => {
      const f = join(F, i);
      if (!/^\d+[KMG]B$/.test(h.pageSize)) refuse(`${f}.pageSize`, `${JSON.stringify(h.pageSize)} is not a page size such as 2MB or 1GB`);
      const [usage, rsvd] = version === 1 ? ['limit_in_bytes', 'rsvd.limit_in_bytes'] : ['max', 'rsvd.max'];
      const rsvdFile = `hugetlb.${h.pageSize}.${rsvd}`;
      if (current(rsvdFile) !== undefined) out.push(write(rsvdFile, int(h.limit), `${f}.limit`));
      out.push(write(`hugetlb.${h.pageSize}.${usage}`, int(h.limit), `${f}.limit`));
    });
    return out;
  },
};
