// The build's rehearsal of create (src/lifecycle/create-rehearsal.ts), which
// warms the container bundle's code cache: it plans a container, keeps its
// state in a scratch root and makes its cgroups in memory, and must leave
// nothing on the host, where the build may run as root.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import t from 'tap';
import { prepare } from '../../src/lifecycle/create';
import { rehearseCreate } from '../../src/lifecycle/create-rehearsal';
import { writeSpec } from '../../src/cli/spec';

t.test('a rehearsed create plans the container and creates nothing', async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), 'tsrun-rehearsal-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  writeSpec(scratch, false);
  const config = JSON.parse(readFileSync(join(scratch, 'config.json'), 'utf8'));
  config.process.terminal = false;
  writeFileSync(join(scratch, 'config.json'), JSON.stringify(config));
  mkdirSync(join(scratch, 'rootfs'));
  const root = join(scratch, 'state');
  const { plan } = prepare({ root, id: 'rehearsal', bundle: scratch, noPivot: false, noNewKeyring: false, preserveFds: 0 });
  t.ok(plan.cgroupDirs.length > 0, 'the plan has cgroups on this host');
  // Should the rehearsal ever make them, the test still leaves none behind.
  t.teardown(() => {
    for (const d of plan.cgroupDirs) {
      for (const dir of [d.dir, dirname(d.dir)]) {
        try {
          rmdirSync(dir);
        } catch {
          // not there, or not empty (another container's parent)
        }
      }
    }
  });

  t.ok(rehearseCreate(root, scratch) > 0, 'the plan is encoded for tsrun-init');
  for (const d of plan.cgroupDirs) t.notOk(existsSync(d.dir), `no cgroup ${d.dir}`);
  t.same(readdirSync(root), [], "nothing left in the state root (the container's directory and the pid file were removed)");
});
