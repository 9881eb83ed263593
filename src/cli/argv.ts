// runc's parser stops at the first word that is not an option, so that in
// `runc exec c1 sh -c 'echo hi'` the -c belongs to sh. yargs would take it
// as exec's --cap. For exec and ps, a "--" is put after the container id
// before yargs sees the line: everything after it is the command's.

/** Options (global and of exec/ps) that take a value as the next word. */
const takesValue = new Set([
  '--root', '--log', '--log-format',
  '--process', '-p', '--cwd', '--env', '-e', '--user', '-u', '--additional-gids', '-g', '--cap', '-c',
  '--apparmor', '--process-label', '--console-socket', '--pid-file', '--preserve-fds', '--cgroup',
  '--format', '-f',
]);

const separated = new Set(['exec', 'ps']);

/** argv with "--" after the container id of exec and ps (unless the caller wrote one). */
export function separateCommand(argv: string[]): string[] {
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
