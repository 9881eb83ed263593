// linux.memoryPolicy (config-linux.md "Memory policy") planned as
// set_mempolicy(2) takes it, and what set_mempolicy(2) says the kernel
// refuses, refused first with the field named.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { recordValues } from '../../src/init/protocol';
import { memoryPolicyRecords, parseNodeList } from '../../src/plan/mempolicy';
import type { Spec } from '../../src/spec/types';

const planned = (memoryPolicy: Record<string, unknown>) => {
  const [r] = memoryPolicyRecords({ linux: { memoryPolicy } } as unknown as Spec);
  return recordValues(r, 'MEMPOLICY');
};
const refused = (memoryPolicy: Record<string, unknown>) => {
  try {
    memoryPolicyRecords({ linux: { memoryPolicy } } as unknown as Spec);
    return 'accepted';
  } catch (err) {
    return (err as Error).message;
  }
};

t.test('node lists', async (t) => {
  t.same(parseNodeList('0-3,7'), [0, 1, 2, 3, 7]);
  t.same(parseNodeList('5,1,1'), [1, 5], 'sorted, once each');
  for (const bad of ['', '1-', '3-1', 'a', '0,,1', '1024', '0 1']) t.equal(parseNodeList(bad), undefined, `"${bad}" is not a list`);
});

t.test('modes, flags and the nodemask as set_mempolicy takes them', async (t) => {
  t.same(planned({ mode: 'MPOL_BIND', nodes: '0' }), { mode: 2, maxnode: 65, mask: [1n] });
  t.same(planned({ mode: 'MPOL_INTERLEAVE', nodes: '0', flags: ['MPOL_F_STATIC_NODES'] }), { mode: 3 | (1 << 15), maxnode: 65, mask: [1n] });
  t.same(planned({ mode: 'MPOL_LOCAL' }), { mode: 4, maxnode: 0, mask: [] }, 'no nodes: no mask');
  t.same(planned({ mode: 'MPOL_PREFERRED', nodes: '' }), { mode: 1, maxnode: 0, mask: [] }, 'preferred without nodes is local allocation');
  // Relative nodes are positions in the allowed set: node 70 need not exist.
  t.same(planned({ mode: 'MPOL_BIND', nodes: '70', flags: ['MPOL_F_RELATIVE_NODES'] }), { mode: 2 | (1 << 14), maxnode: 129, mask: [0n, 1n << 6n] });
  t.same(memoryPolicyRecords({ linux: {} } as Spec), [], 'none asked, none set');
});

t.test('what the kernel would refuse, refused with the field', async (t) => {
  const online = readFileSync('/sys/devices/system/node/online', 'utf8').trim();
  t.equal(refused({ mode: 'MPOL_DEFAULT', nodes: '0' }), 'linux.memoryPolicy.nodes: MPOL_DEFAULT takes no nodes');
  t.equal(refused({ mode: 'MPOL_LOCAL', nodes: '0' }), 'linux.memoryPolicy.nodes: MPOL_LOCAL takes no nodes');
  t.equal(refused({ mode: 'MPOL_BIND' }), 'linux.memoryPolicy.nodes: MPOL_BIND needs at least one node');
  t.equal(refused({ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES', 'MPOL_F_RELATIVE_NODES'] }), 'linux.memoryPolicy.flags: MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES cannot go together');
  t.equal(refused({ mode: 'MPOL_BIND', nodes: '0-x' }), 'linux.memoryPolicy.nodes: "0-x" is not a list of node numbers up to 1023 such as "0-3,7"');
  t.equal(refused({ mode: 'MPOL_BIND', nodes: '1023' }), `linux.memoryPolicy.nodes: none of these nodes is online on this host (online: ${parseNodeList(online)!.join(',')})`);
  t.equal(refused({ mode: 'MPOL_BIND', nodes: `${online.split(/[-,]/)[0]},1023` }), 'accepted', 'one of them online is enough (the kernel takes those)');
  t.equal(refused({ mode: 'MPOL_BIND', nodes: '1023', flags: ['MPOL_F_STATIC_NODES'] }), 'accepted', 'static nodes are kept for when they are allowed');
});
