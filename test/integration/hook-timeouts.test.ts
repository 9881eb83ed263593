// A hook that runs over its timeout (config.md "POSIX-platform Hooks") is
// killed with everything it started: for each of the six kinds, a hook
// whose shell waits on a child `sleep` times out, and afterwards no
// process of it is left anywhere on the host.
import { readFileSync, readdirSync } from 'node:fs';
import t from 'tap';
import { env, requireRoot, uniqueId } from '../helpers/tsrun';
import { sleepMs } from '../helpers/wait';

type Config = Record<string, any>;

/** Host pids whose command line is exactly `sleep <seconds>`. */
function sleepers(seconds: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8') === `sleep\0${seconds}\0`) out.push(Number(d));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

if (requireRoot(t)) {
  const kinds = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
  kinds.forEach((kind, i) => {
    t.test(`${kind}: a hook that times out is killed with its children`, async (t) => {
      const e = env(t);
      // A number no other test uses; `; true` keeps sh from exec'ing sleep,
      // so sleep is the hook's child, not the hook.
      const seconds = 3700 + i + (process.pid % 50) * 10;
      const id = uniqueId('hooktimeout');
      const bundle = e.bundle((c: Config) => {
        c.process.args = ['sleep', '1000'];
        c.hooks = { [kind]: [{ path: '/bin/sh', args: ['sh', '-c', `sleep ${seconds}; true`], timeout: 1 }] };
      });
      const started = Date.now();
      if (kind === 'poststop') {
        t.equal(e.tsrun(['create', '--bundle', bundle, id]).status, 0);
        const d = e.tsrun(['delete', '--force', id]);
        t.match(d.stderr, /level=warning msg="hooks\.poststop\[0\]: \/bin\/sh failed: timed out after 1s"/, 'a poststop failure is a warning');
      } else {
        const c = e.tsrun(['create', '--bundle', bundle, id]);
        const r = c.status === 0 ? e.tsrun(['start', id]) : c;
        t.equal(r.status, 1, 'the stage fails');
        t.match(r.stderr, new RegExp(`hooks\\.${kind}\\[0\\]: .*timed out after 1s`), 'naming the hook and the timeout');
      }
      t.ok(Date.now() - started < 30_000, 'after about its timeout, not after the sleep');
      // The kill is immediate; give the kernel a moment to reap.
      let left = sleepers(seconds);
      for (let n = 0; n < 100 && left.length; n++) {
        sleepMs(20);
        left = sleepers(seconds);
      }
      t.same(left, [], `no "sleep ${seconds}" survives the hook`);
      e.tsrun(['delete', '--force', id]);
    });
  });
}
