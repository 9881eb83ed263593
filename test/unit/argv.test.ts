// The command line as runc parses it (src/cli/argv.ts): what follows exec's
// and ps's container id is the command's, and an option's value may start
// with "-".
import t from 'tap';
import { runcArgv } from '../../src/cli/argv';

t.test('exec and ps: "--" after the container id', async (t) => {
  t.same(runcArgv(['exec', 'c1', 'sh', '-c', 'echo hi']), ['exec', 'c1', '--', 'sh', '-c', 'echo hi']);
  t.same(runcArgv(['--root', '/r', 'exec', '-e', 'A=1', '-t', 'c1', 'ls', '-l']), ['--root', '/r', 'exec', '-e', 'A=1', '-t', 'c1', '--', 'ls', '-l'], 'values of options are skipped, flags are not');
  t.same(runcArgv(['exec', '--user', '1000', 'c1', 'id']), ['exec', '--user', '1000', 'c1', '--', 'id']);
  t.same(runcArgv(['exec', 'c1', '--', 'ls']), ['exec', 'c1', '--', 'ls'], 'a "--" of the caller is kept, not doubled');
  t.same(runcArgv(['ps', '--format', 'json', 'c1', '-o', 'pid']), ['ps', '--format', 'json', 'c1', '--', '-o', 'pid']);
  t.same(runcArgv(['exec', 'c1', 'sh', '-c', '-x']), ['exec', 'c1', '--', 'sh', '-c', '-x'], "the command's words are never rewritten");
  t.same(runcArgv(['kill', 'c1', 'KILL']), ['kill', 'c1', 'KILL'], 'other commands unchanged');
});

t.test('an option whose value starts with "-"', async (t) => {
  t.same(runcArgv(['update', '--resources', '-', 'c1']), ['update', '--resources=-', 'c1'], "go-runc's update --resources -");
  t.same(runcArgv(['update', '-r', '-', 'c1']), ['update', '-r=-', 'c1']);
  t.same(runcArgv(['events', '--interval', '-1s', 'c1']), ['events', '--interval=-1s', 'c1']);
  t.same(runcArgv(['update', '--memory', '64m', 'c1']), ['update', '--memory', '64m', 'c1'], 'an ordinary value stays as it is');
  t.same(runcArgv(['exec', '-e', '-x', 'c1', 'true']), ['exec', '-e=-x', 'c1', '--', 'true']);
  t.same(runcArgv(['delete', '-f', '--root=/r', 'c1']), ['delete', '-f', '--root=/r', 'c1'], "delete's -f is --force, a flag");
  t.same(runcArgv(['list', '-f', '-x']), ['list', '-f=-x'], "list's -f is --format");
  t.same(runcArgv(['--root', 'list', 'delete', '-f', '--debug', 'c1']), ['--root', 'list', 'delete', '-f', '--debug', 'c1'], 'the command word is not a value of a global option');
});
