// Two places where runc's parser and yargs differ, mended before yargs
// sees the line:
// - runc stops at the first word that is not an option, so that in
//   `runc exec c1 sh -c 'echo hi'` the -c belongs to sh (yargs would take
//   it as exec's --cap). For exec and ps, a "--" is put after the container
//   id: everything after it is the command's.
// - runc takes the word after an option that needs a value as that value,
//   even when it starts with "-" (`update --resources - c1`, as go-runc
//   writes it; `events --interval -1s`). Those become `--option=value`.

/** Options (global and of exec/ps) that take a value as the next word. */
const takesValue = new Set([
  '--root', '--log', '--log-format',
  '--process', '-p', '--cwd', '--env', '-e', '--user', '-u', '--additional-gids', '-g', '--cap', '-c',
  '--apparmor', '--process-label', '--console-socket', '--pid-file', '--preserve-fds', '--cgroup',
  '--format', '-f',
  // update and events
  '--resources', '-r', '--blkio-weight', '--cpu-period', '--cpu-quota', '--cpu-share', '--cpu-shares', '--cpu-rt-period',
  '--cpu-rt-runtime', '--cpuset-cpus', '--cpuset-mems', '--kernel-memory', '--kernel-memory-tcp', '--memory',
  '--memory-reservation', '--memory-swap', '--pids-limit', '--l3-cache-schema', '--mem-bw-schema', '--interval',
]);

/** The commands whose -f is --format (a value); delete's -f is --force (a flag). */
const formatCommands = new Set(['list', 'ps']);

/** `--opt -x` as `--opt=-x` for options that take a value (up to a "--"). */
function joinDashValues(argv: string[]): string[] {
  const out: string[] = [];
  let command: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return [...out, ...argv.slice(i)];
    const valued = takesValue.has(a) && (a !== '-f' || (command !== undefined && formatCommands.has(command)));
    if (!a.startsWith('-') && command === undefined) command = a;
    if (valued && i + 1 < argv.length && argv[i + 1].startsWith('-') && argv[i + 1] !== '--') {
      out.push(`${a}=${argv[++i]}`);
    } else {
      out.push(a);
      // The value of an option is not the command word.
      if (valued && i + 1 < argv.length) out.push(argv[++i]);
    }
  }
  return out;
}

const separated = new Set(['exec', 'ps']);

/**
 * The global --rootless (runc's: before the command), taken out of argv:
 * yargs could not tell it from `spec --rootless`, a yes/no flag of the
 * same name. The last one given wins; undefined without one.
 */
export function takeGlobalRootless(argv: string[]): { rootless?: string; rest: string[] } {
  const rest: string[] = [];
  let rootless: string | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--' || !a.startsWith('-')) break;
    if (a === '--rootless' && i + 1 < argv.length) rootless = argv[++i];
    else if (a.startsWith('--rootless=')) rootless = a.slice('--rootless='.length);
    else {
      rest.push(a);
      if (['--root', '--log', '--log-format'].includes(a) && i + 1 < argv.length) rest.push(argv[++i]);
    }
  }
  return { rootless, rest: [...rest, ...argv.slice(i)] };
}

/** argv as yargs should see it: see the top of this file. */
export function runcArgv(argv: string[]): string[] {
  return joinDashValues(separateCommand(argv));
}

/** argv with "--" after the container id of exec and ps (unless the caller wrote one). */
function separateCommand(argv: string[]): string[] {
  let i = 0;
  let command: string | undefined;
  // The command word: the first non-option.
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return argv;
    if (!a.startsWith('-')) {
      command = a;
      break;
    }
    if (takesValue.has(a)) i++;
  }
  if (!command || !separated.has(command)) return argv;
  // The container id: the first non-option after the command.
  for (i++; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return argv;
    if (!a.startsWith('-') || a === '-') {
      if (argv[i + 1] === '--') return argv;
      return [...argv.slice(0, i + 1), '--', ...argv.slice(i + 1)];
    }
    if (takesValue.has(a)) i++;
  }
  return argv;
}
