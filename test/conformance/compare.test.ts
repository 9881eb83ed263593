// The differential comparator's rules for mounts and random devices.
import t from 'tap';
import { diffValues } from '../../conformance/lib/compare';

t.test('mount order is compared over the mounts both sides have', async (t) => {
  const m = (mountPoint: string) => ({ mountPoint, fstype: 'tmpfs' });
  const onlyExtra = diffValues({ mounts: [m('/'), m('/a'), m('/x'), m('/b')] }, { mounts: [m('/'), m('/a'), m('/b')] });
  t.same(onlyExtra.map((d) => d.path), ['mounts[/x]'], 'an extra mount is one difference, not also one of order');
  const swapped = diffValues({ mounts: [m('/'), m('/b'), m('/a')] }, { mounts: [m('/'), m('/a'), m('/b')] });
  t.same(swapped.map((d) => d.path), ['mounts[order]'], 'a real change of order is still reported');
});

t.test('a mount point mounted over again is its own entry', async (t) => {
  const m = (mountPoint: string, fstype = 'tmpfs') => ({ mountPoint, fstype });
  const d = diffValues({ mounts: [m('/'), m('/s'), m('/s/u'), m('/s', 'x'), m('/s/u')] }, { mounts: [m('/'), m('/s'), m('/s/u'), m('/s', 'x')] });
  t.same(d.map((x) => x.path), ['mounts[/s/u#2]'], 'only the second /s/u differs');
});
