// linux.resources.rdma (config-linux.md "RDMA"): one line per device in
// rdma.max, "<device> hca_handle=<n> hca_object=<n>", in v1 and v2 alike.
import { join } from '../../spec/fieldpath';
import { type Controller, int, refuse, write } from './controller';

const F = 'linux.resources.rdma';
type Limit = { hcaHandles?: number; hcaObjects?: number };

export const rdma: Controller = {
  name: 'rdma',
  v1: 'rdma',
  v2: 'rdma',
  handles: [F],
  fields: (r) => (Object.keys(r.rdma ?? {}).length ? [F] : []),
  writes(r) {
    return Object.entries((r.rdma ?? {}) as Record<string, Limit>).map(([device, l]) => {
      const f = join(F, device);
      if (/\s/.test(device) || !device) refuse(f, 'is not an RDMA device name');
      const parts = [device];
      if (l.hcaHandles !== undefined) parts.push(`hca_handle=${int(l.hcaHandles)}`);
      if (l.hcaObjects !== undefined) parts.push(`hca_object=${int(l.hcaObjects)}`);
      if (parts.length === 1) refuse(f, 'needs hcaHandles or hcaObjects');
      return write('rdma.max', parts.join(' '), f);
    });
  },
};
