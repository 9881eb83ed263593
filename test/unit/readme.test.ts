// The README's table of control group fields covers every field a
// controller applies: a controller added without its row fails here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { appliedFields } from '../../src/cgroups/controllers';

const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
const table = readme.slice(readme.indexOf('## Control groups'));

/** `a{X,Y}b` -> aXb, aYb (the table's shorthand). */
function expand(name: string): string[] {
  const m = /\{([^}]*)\}/.exec(name);
  if (!m) return [name];
  return m[1].split(',').flatMap((alt) => expand(name.slice(0, m.index) + alt + name.slice(m.index + m[0].length)));
}

t.test('every applied linux.resources field has a row in the README', async (t) => {
  const named = new Set(
    table
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .flatMap((row) => [...row.split('|')[1].matchAll(/`([^`]+)`/g)].flatMap((m) => expand(m[1]))),
  );
  for (const f of appliedFields) t.ok(named.has(f.replace(/^linux\.resources\./, '')), `${f} has a row`);
});
