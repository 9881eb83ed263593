// The command line, as runc's: global flags, then a command. Each command's
// implementation is required only when that command runs, so that `tsrun
// state` does not pay for loading what `tsrun create` needs; the plain forms
// of the hot commands and of create, run and exec do not load yargs at all
// (hot-path.ts, container-commands.ts).
import type { Argv } from 'yargs';
import { TsrunError, messageOf } from '../errors';
import { reportError } from '../log';
import { defaultStateRoot } from '../rootless';
import { runcArgv, takeGlobalRootless } from './argv';
import { type ContainerCall, type HotCall, type PlainCall, runHot, runHotCommandLine, versionText } from './hot-path';

/** The part of yargs' internals touched below (yargs 17). */
interface YargsInternals {
  getInternalMethods(): { getUsageInstance(): { cacheHelpMessage(): void } };
}

const createFlags = (y: Argv) =>
  y
    .positional('container-id', { type: 'string', demandOption: true, describe: 'the container id' })
    .option('bundle', { alias: 'b', type: 'string', default: '.', describe: 'path to the bundle directory' })
    .option('console-socket', { type: 'string', describe: 'unix socket to send the pseudo-terminal master to' })
    .option('pid-file', { type: 'string', describe: 'file to write the container init pid to' })
    .option('no-pivot', { type: 'boolean', default: false, describe: 'use MS_MOVE and chroot instead of pivot_root' })
    .option('no-new-keyring', { type: 'boolean', default: false, describe: 'keep the session keyring of the caller' })
    .option('preserve-fds', { type: 'number', default: 0, describe: 'number of extra fds (from 3) to pass on' });

const idArg = (y: Argv) => y.positional('container-id', { type: 'string', demandOption: true, describe: 'the container id' });

export async function main(argv: string[]): Promise<number> {
  const hot = runHotCommandLine(argv);
  if (hot !== undefined) return hot;
  const { cli, exitCode } = commandLine(argv);
  try {
    await cli.parseAsync();
  } catch (err) {
    const usage = err instanceof Error && err.name === 'YError';
    reportError(messageOf(err) + (usage ? ' (see tsrun --help)' : ''));
    return 1;
  }
  return exitCode();
}

/**
 * yargs, loaded without letting it create process.stdout or process.stderr:
 * its shim reads process.stdout.columns as it loads (for the width of help,
 * 80 without), and the assert module it requires asks process.stderr about
 * colours. Creating those streams loads Node's stream modules, several ms of
 * every create and exec, and on a pipe makes the file description
 * non-blocking, which the container's stdio shares (tsrun itself writes
 * with fs.writeSync).
 */
function requireYargs(): typeof import('yargs/yargs') {
  const streams = (['stdout', 'stderr'] as const).map((name) => ({ name, real: Object.getOwnPropertyDescriptor(process, name)! }));
  for (const { name, real } of streams) Object.defineProperty(process, name, { configurable: true, enumerable: real.enumerable, get: () => ({}) });
  try {
    return require('yargs/yargs') as typeof import('yargs/yargs');
  } finally {
    for (const { name, real } of streams) Object.defineProperty(process, name, real);
  }
}

/**
 * The whole command line, in yargs. The handlers of the commands with a
 * plain form make the same call as parseHot and run it as the plain form
 * runs (or give it to `record`: a test compares it with parseHot's).
 */
export function commandLine(argv: string[], record?: (call: PlainCall) => void) {
  let exitCode = 0;
  const hot = (call: HotCall) => (record ? record(call) : runHot(call));
  // The global --rootless, which yargs does not see (argv.ts).
  const { rootless, rest } = takeGlobalRootless(argv);
  const container = async (call: ContainerCall) => {
    call = { ...call, args: { ...call.args, rootless: rootless ?? 'auto' } };
    if (record) return record(call);
    const { runContainerCall } = require('./container-commands') as typeof import('./container-commands');
    exitCode = await runContainerCall(call);
  };
  const yargs = requireYargs();
  const cli = yargs(runcArgv(rest))
    .scriptName('tsrun')
    .usage('$0 [global options] <command> [options] <container-id>\n\nAn OCI runtime-spec container runtime.')
    .parserConfiguration({ 'boolean-negation': false, 'populate--': true })
    .option('root', { type: 'string', default: defaultStateRoot(), describe: 'directory for container state', global: true })
    .option('log', { type: 'string', describe: 'log file (default: stderr)', global: true })
    .option('log-format', { choices: ['text', 'json'], default: 'text', describe: 'log format', global: true })
    .option('debug', { type: 'boolean', default: false, describe: 'log debug messages', global: true })
    .option('systemd-cgroup', { type: 'boolean', default: false, describe: 'use systemd to manage cgroups (not supported)', global: true })
    .middleware((a) => {
      if (a['systemd-cgroup']) throw new TsrunError('--systemd-cgroup is not supported: tsrun manages cgroups through cgroupfs');
    })
    .command('create <container-id>', 'create a container (it waits for start)', createFlags, async (a) => {
      await container({ command: 'create', args: a });
    })
    .command(
      'run <container-id>',
      'create and start a container, and wait for it unless detached',
      (y) =>
        createFlags(y)
          .option('detach', { alias: 'd', type: 'boolean', default: false, describe: 'do not wait for the container' })
          .option('keep', { type: 'boolean', default: false, describe: 'keep the container after it exits' }),
      async (a) => {
        await container({ command: 'run', args: a });
      },
    )
    .command('start <container-id>', 'run the user program of a created container', idArg, (a) => {
      hot({ command: 'start', root: String(a.root), id: String(a['container-id']) });
    })
    .command('state <container-id>', 'print the state of a container', idArg, (a) => {
      hot({ command: 'state', root: String(a.root), id: String(a['container-id']) });
    })
    .command(
      'kill <container-id> [signal]',
      'send a signal (default SIGTERM) to the container',
      (y) =>
        idArg(y)
          .positional('signal', { type: 'string', default: 'SIGTERM', describe: 'name (KILL, SIGKILL) or number' })
          .option('all', { alias: 'a', type: 'boolean', default: false, describe: 'signal every process of the container' }),
      (a) => {
        hot({ command: 'kill', root: String(a.root), id: String(a['container-id']), signal: String(a.signal), all: a.all });
      },
    )
    .command(
      'delete <container-id>',
      'delete a stopped container',
      (y) => idArg(y).option('force', { alias: 'f', type: 'boolean', default: false, describe: 'kill the container first if it runs' }),
      (a) => {
        hot({ command: 'delete', root: String(a.root), id: String(a['container-id']), force: a.force });
      },
    )
    .command(
      'exec <container-id> [command..]',
      'run a new process in a running container',
      (y) =>
        idArg(y)
          .positional('command', { type: 'string', array: true, describe: 'the program and its arguments (or --process)' })
          .option('process', { alias: 'p', type: 'string', describe: 'a process.json (the spec process object) to run instead' })
          .option('cwd', { type: 'string', describe: 'working directory in the container' })
          .option('env', { alias: 'e', type: 'string', describe: 'NAME=value to add to the environment' })
          .option('tty', { alias: 't', type: 'boolean', default: false, describe: 'give the process a terminal' })
          .option('user', { alias: 'u', type: 'string', describe: 'uid[:gid]' })
          .option('additional-gids', { alias: 'g', type: 'string', describe: 'additional group ids' })
          .option('cap', { alias: 'c', type: 'string', describe: 'a capability to add' })
          .option('no-new-privs', { type: 'boolean', default: false, describe: 'set no_new_privs' })
          .option('apparmor', { type: 'string', describe: 'AppArmor profile' })
          .option('process-label', { type: 'string', describe: 'SELinux label' })
          .option('console-socket', { type: 'string', describe: 'unix socket to send the pseudo-terminal master to' })
          .option('detach', { alias: 'd', type: 'boolean', default: false, describe: 'do not wait for the process' })
          .option('pid-file', { type: 'string', describe: 'file to write the process pid to' })
          .option('preserve-fds', { type: 'number', default: 0, describe: 'number of extra fds (from 3) to pass on' })
          .option('ignore-paused', { type: 'boolean', default: false, describe: 'exec even if the container is paused' })
          .option('cgroup', { type: 'string', describe: 'sub-cgroup to run in: path, or controller[,controller]:path' }),
      async (a) => {
        await container({ command: 'exec', args: a });
      },
    )
    .command(
      'ps <container-id> [ps-args..]',
      'list the processes of a container (ps arguments may follow)',
      (y) =>
        idArg(y)
          .positional('ps-args', { type: 'string', array: true, describe: 'arguments for ps(1), default -ef' })
          .option('format', { alias: 'f', choices: ['table', 'json'], default: 'table', describe: 'output format' }),
      (a) => {
        const { ps } = require('../container/ps') as typeof import('../container/ps');
        ps(String(a.root), String(a['container-id']), a.format as 'table' | 'json', (a['--'] as string[] | undefined)?.map(String) ?? []);
      },
    )
    .command('pause <container-id>', 'freeze every process of a container', idArg, (a) => {
      const { pause } = require('../container/pause') as typeof import('../container/pause');
      pause(String(a.root), String(a['container-id']));
    })
    .command('resume <container-id>', 'thaw a paused container', idArg, (a) => {
      const { resume } = require('../container/resume') as typeof import('../container/resume');
      resume(String(a.root), String(a['container-id']));
    })
    .command(
      'update <container-id>',
      'change the resource limits of a running container',
      (y) =>
        idArg(y)
          .option('resources', { alias: 'r', type: 'string', describe: 'a linux.resources JSON file, - for stdin' })
          .option('blkio-weight', { type: 'string', describe: 'block IO weight (10-1000)' })
          .option('cpu-period', { type: 'string', describe: 'CFS period (us)' })
          .option('cpu-quota', { type: 'string', describe: 'CFS quota (us) per period' })
          .option('cpu-share', { alias: 'cpu-shares', type: 'string', describe: 'CPU shares' })
          .option('cpu-rt-period', { type: 'string', describe: 'realtime period (us)' })
          .option('cpu-rt-runtime', { type: 'string', describe: 'realtime runtime (us) per period' })
          .option('cpuset-cpus', { type: 'string', describe: 'CPUs to run on (0-3, 0,1)' })
          .option('cpuset-mems', { type: 'string', describe: 'memory nodes to use' })
          .option('kernel-memory', { type: 'string', describe: 'kernel memory limit (deprecated)' })
          .option('kernel-memory-tcp', { type: 'string', describe: 'kernel TCP buffer limit (deprecated)' })
          .option('memory', { type: 'string', describe: 'memory limit (bytes, or with k, m, g)' })
          .option('memory-reservation', { type: 'string', describe: 'memory soft limit' })
          .option('memory-swap', { type: 'string', describe: 'memory plus swap limit, -1 for unlimited' })
          .option('pids-limit', { type: 'string', describe: 'maximum number of processes, -1 for unlimited' })
          .option('l3-cache-schema', { type: 'string', describe: 'Intel RDT L3 cache schema (not supported)' })
          .option('mem-bw-schema', { type: 'string', describe: 'Intel RDT memory bandwidth schema (not supported)' }),
      (a) => {
        const { update } = require('../container/update') as typeof import('../container/update');
        update(String(a.root), String(a['container-id']), a as unknown as Record<string, string | undefined>);
      },
    )
    .command(
      'events <container-id>',
      'print the container\'s events: stats at an interval, and OOM notifications',
      (y) =>
        idArg(y)
          .option('stats', { type: 'boolean', default: false, describe: 'print the stats once and exit' })
          .option('interval', { type: 'string', default: '5s', describe: 'time between stats (Go duration: 500ms, 5s, 1m)' }),
      async (a) => {
        const { events } = require('../container/events') as typeof import('../container/events');
        await events(String(a.root), String(a['container-id']), { stats: a.stats, interval: a.interval });
      },
    )
    .command(
      'list',
      'list containers',
      (y) =>
        y
          .option('format', { alias: 'f', choices: ['table', 'json'], default: 'table', describe: 'output format' })
          .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'print only ids' }),
      (a) => {
        hot({ command: 'list', root: String(a.root), format: a.format as 'table' | 'json', quiet: a.quiet });
      },
    )
    .command(
      'spec',
      'write a default config.json into the bundle',
      (y) =>
        y
          .option('bundle', { alias: 'b', type: 'string', default: '.', describe: 'bundle directory' })
          .option('rootless', { type: 'boolean', default: false, describe: 'a config for an unprivileged user' }),
      (a) => {
        const { writeSpec } = require('./spec') as typeof import('./spec');
        writeSpec(a.bundle, !!a.rootless);
      },
    )
    .command('features', 'print the features document (JSON)', {}, () => hot({ command: 'features' }))
    .demandCommand(1, 'a command is required (see --help)')
    .strict()
    .version(versionText())
    .alias('version', 'v')
    .help()
    .alias('help', 'h')
    .fail(false);
  // yargs builds the whole help text after each command's handler, to have
  // it at hand should the command fail later; tsrun never answers a failure
  // with help, and building the text cost several ms of every create and exec.
  (cli as unknown as YargsInternals).getInternalMethods().getUsageInstance().cacheHelpMessage = () => {};
  // Help as wide as the terminal, up to 80 columns, as yargs would make it
  // had it seen process.stdout (requireYargs).
  if (argv.includes('--help') || argv.includes('-h')) {
    const columns = process.stdout.columns;
    if (columns) cli.wrap(Math.min(80, columns));
  }
  return { cli, exitCode: () => exitCode };
}
