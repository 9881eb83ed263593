// The command lines runc's clients write over and over, read without yargs
// when they are in one of their plain forms: state, start, kill, delete,
// list, features and --version (a shim calls several per container, a probe
// one per period), create, run and exec as containerd's shim and conmon
// write them, and exec with a command as people write it. Setting up
// yargs' parser and help for every command cost more than these commands'
// own work (50 ms of an exec with a command). Any other line (help, an
// unknown or repeated flag, a missing or extra word, "--" before exec's
// container id) goes to yargs, which gives
// the same result or the usage error. A unit test parses each plain form,
// and lines made at random, both ways and compares.
//
// This file is also the entry of the hot bundle, dist/tsrun-hot.js, which
// bin/tsrun loads first (for a line with the word create, run or exec, the
// container bundle, which exports the same calls): it runs the hot commands
// itself, and tells which bundle runs any other line (bundleFor):
// dist/tsrun-container.js for the plain create, run and exec, dist/tsrun.js
// (yargs and all) for the rest.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsrunError, messageOf } from '../errors';
// For bin/tsrun, which loads the other bundles with it.
export { requireCompiled } from '../code-cache';
import { configureLog, logOptionsFromArgv, reportError } from '../log';
import { runcArgv } from './argv';
import { stdout } from '../output';
import { packageRoot } from '../paths';
import { defaultStateRoot } from '../rootless';
import { specVersion } from '../spec/version';

export type HotCall =
  | { command: 'state' | 'start'; root: string; id: string }
  | { command: 'kill'; root: string; id: string; signal: string; all: boolean }
  | { command: 'delete'; root: string; id: string; force: boolean }
  | { command: 'list'; root: string; format: 'table' | 'json'; quiet: boolean }
  | { command: 'features' }
  | { command: 'version' };

/**
 * create, run and exec in the forms their clients use (containerd's shim,
 * conmon): run from a bundle of their own, dist/tsrun-container.js
 * (container-commands.ts), without yargs. `args` holds what yargs' argv
 * would for the same line (its keys, its defaults).
 */
export interface ContainerCall {
  command: 'create' | 'run' | 'exec';
  args: Record<string, unknown>;
}

export type PlainCall = HotCall | ContainerCall;

type Command = PlainCall['command'];

export function isContainerCall(call: PlainCall): call is ContainerCall {
  return call.command === 'create' || call.command === 'run' || call.command === 'exec';
}

interface Shape {
  /** Positionals (the optional ones end in `?`). */
  words: string[];
  /** Flags without a value, by the name yargs gives them. */
  flags: Record<string, string>;
  /** Options with a value. */
  valued?: Record<string, string>;
  /** yargs' defaults, for the container commands' args. */
  defaults?: Record<string, unknown>;
}

const createShape: Shape = {
  words: ['id'],
  flags: { '--no-pivot': 'no-pivot', '--no-new-keyring': 'no-new-keyring' },
  valued: { '--bundle': 'bundle', '-b': 'bundle', '--console-socket': 'console-socket', '--pid-file': 'pid-file', '--preserve-fds': 'preserve-fds' },
  defaults: { bundle: '.', 'no-pivot': false, 'no-new-keyring': false, 'preserve-fds': 0 },
};

/** Each plain command's words and flags. */
const grammar: Record<Exclude<Command, 'version'>, Shape> = {
  state: { words: ['id'], flags: {} },
  start: { words: ['id'], flags: {} },
  kill: { words: ['id', 'signal?'], flags: { '--all': 'all', '-a': 'all' } },
  delete: { words: ['id'], flags: { '--force': 'force', '-f': 'force' } },
  list: { words: [], flags: { '--quiet': 'quiet', '-q': 'quiet' }, valued: { '--format': 'format', '-f': 'format' } },
  features: { words: [], flags: {} },
  create: createShape,
  run: {
    ...createShape,
    flags: { ...createShape.flags, '--detach': 'detach', '-d': 'detach', '--keep': 'keep' },
    defaults: { ...createShape.defaults, detach: false, keep: false },
  },
  // With --process, or a command: every word after the id, as runc's exec
  // takes them (argv.ts); its options come before the id.
  exec: {
    words: ['id'],
    flags: { '--detach': 'detach', '-d': 'detach', '--tty': 'tty', '-t': 'tty' },
    valued: { '--process': 'process', '-p': 'process', '--console-socket': 'console-socket', '--pid-file': 'pid-file', '--preserve-fds': 'preserve-fds' },
    defaults: { detach: false, tty: false, 'preserve-fds': 0, 'no-new-privs': false, 'ignore-paused': false },
  },
};

/** The global options that take a value (--debug, the one without, is read on its own). */
const globalValued: Record<string, string> = { '--root': 'root', '--log': 'log', '--log-format': 'log-format', '--rootless': 'rootless' };

/** The call `argv` makes if it is a plain form of a hot or container command, else undefined (yargs decides). */
export function parseHot(argv: readonly string[]): PlainCall | undefined {
  const seen = new Map<string, string | true>();
  const words: string[] = [];
  let command: Exclude<Command, 'version'> | undefined;
  let version = false;
  const set = (name: string, value: string | true) => {
    if (seen.has(name)) return false; // repeated: yargs makes an array
    seen.set(name, value);
    return true;
  };
  // exec's command: every word after the container id (argv.ts), without a "--" that starts it.
  let execCommand: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (command === 'exec' && words.length > 0) {
      execCommand = argv.slice(arg === '--' ? i + 1 : i);
      break;
    }
    // yargs makes a lone "-" an empty word: left to it.
    if (arg === '-') return undefined;
    if (!arg.startsWith('-')) {
      if (!command && words.length === 0) {
        if (!Object.hasOwn(grammar, arg)) return undefined;
        command = arg as Exclude<Command, 'version'>;
      } else {
        words.push(arg);
      }
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    // The global --rootless only before the command (argv.ts takeGlobalRootless).
    if (name === '--rootless' && command) return undefined;
    const valued = globalValued[name] ?? (command && grammar[command].valued?.[name]);
    if (valued) {
      const value = inline ?? argv[++i];
      // A value yargs would take otherwise (a flag-like word, none at all).
      if (value === undefined || (inline === undefined && value.startsWith('-')) || !set(valued, value)) return undefined;
      continue;
    }
    if (inline !== undefined) return undefined;
    // yargs takes a "true" or "false" after a yes/no flag as its value.
    if (argv[i + 1] === 'true' || argv[i + 1] === 'false') return undefined;
    if (arg === '--debug') {
      if (!set('debug', true)) return undefined;
    } else if ((arg === '--version' || arg === '-v') && !command) {
      version = true;
    } else {
      const flag = command && grammar[command].flags[arg];
      if (!flag || !set(flag, true)) return undefined;
    }
  }
  const format = seen.get('log-format');
  if (format !== undefined && format !== 'text' && format !== 'json') return undefined;
  const rootless = seen.get('rootless');
  if (rootless !== undefined && rootless !== 'true' && rootless !== 'false' && rootless !== 'auto') return undefined;
  if (version) return command ? undefined : { command: 'version' };
  if (!command) return undefined;
  const shape = grammar[command].words;
  const required = shape.filter((w) => !w.endsWith('?')).length;
  if (words.length < required || words.length > shape.length) return undefined;
  const root = (seen.get('root') as string | undefined) ?? defaultStateRoot();
  const on = (name: string) => seen.get(name) === true;
  switch (command) {
    case 'state':
    case 'start':
      return { command, root, id: words[0] };
    case 'kill':
      return { command, root, id: words[0], signal: words[1] ?? 'SIGTERM', all: on('all') };
    case 'delete':
      return { command, root, id: words[0], force: on('force') };
    case 'list': {
      const f = seen.get('format') ?? 'table';
      if (f !== 'table' && f !== 'json') return undefined;
      return { command, root, format: f, quiet: on('quiet') };
    }
    case 'features':
      return { command };
    case 'create':
    case 'run':
    case 'exec': {
      const args: Record<string, unknown> = { ...grammar[command].defaults, root, rootless: rootless ?? 'auto', 'container-id': words[0] };
      for (const name of new Set([...Object.values(grammar[command].flags), ...Object.values(grammar[command].valued ?? {})])) {
        const value = seen.get(name);
        if (value === undefined) continue;
        if (name === 'preserve-fds' && !/^\d+$/.test(String(value))) return undefined;
        args[name] = name === 'preserve-fds' ? Number(value) : value;
      }
      if (command === 'exec') {
        // Either a process file or a command (both, or neither: yargs' errors).
        if ((args.process === undefined) === !execCommand?.length) return undefined;
        if (execCommand?.length) args['--'] = execCommand;
      }
      return { command, args };
    }
  }
}

/** What every command line needs first, whichever bundle runs it. */
export function prepareCommandLine(argv: readonly string[]): void {
  // Started from a directory that was removed: yargs asks for the cwd, and
  // tsrun needs none of its own (runc does not care either).
  try {
    process.cwd();
  } catch {
    process.chdir('/');
  }
  // Before yargs parses anything: its own errors go to --log as well. As
  // yargs sees the line (argv.ts): exec's and ps's command words, after
  // the container id, are the command's, not tsrun's --log or --debug.
  configureLog(logOptionsFromArgv(runcArgv([...argv])));
}

/** The bundle that runs argv when the hot bundle does not: the container commands' or the whole command line's. */
export function bundleFor(argv: readonly string[]): 'tsrun-container.js' | 'tsrun.js' {
  const call = parseHot(argv);
  return call && isContainerCall(call) ? 'tsrun-container.js' : 'tsrun.js';
}

/**
 * Runs argv if it is a plain form of a hot command: its exit status, or
 * undefined (nothing done but setting up the log) if another bundle must.
 */
export function runHotCommandLine(argv: readonly string[]): number | undefined {
  prepareCommandLine(argv);
  const hot = parseHot(argv);
  if (!hot || isContainerCall(hot)) return undefined;
  try {
    runHot(hot);
    return 0;
  } catch (err) {
    reportError(messageOf(err));
    return 1;
  }
}

/** What --version prints (without the last newline): the build's dist/version.txt, and the running Node's version. bin/tsrun prints it alike. */
export function versionText(): string {
  let built = `tsrun version unknown\ncommit: unknown\nspec: ${specVersion}\n`;
  try {
    built = readFileSync(join(packageRoot, 'dist', 'version.txt'), 'utf8');
  } catch {
    // running from sources
  }
  return `${built}node: ${process.version}`;
}

/** Runs a hot command; yargs' handlers for these commands come here too. Each implementation is required on first use. */
export function runHot(call: HotCall): void {
  switch (call.command) {
    case 'state': {
      const { stateOf } = require('../lifecycle/query') as typeof import('../lifecycle/query');
      stdout(JSON.stringify(stateOf(call.root, call.id), null, 2) + '\n');
      return;
    }
    case 'start': {
      const { start } = require('../lifecycle/start') as typeof import('../lifecycle/start');
      start(call.root, call.id);
      return;
    }
    case 'kill': {
      const { parseSignal } = require('../signals') as typeof import('../signals');
      const { kill } = require('../lifecycle/kill') as typeof import('../lifecycle/kill');
      kill(call.root, call.id, parseSignal(call.signal), call.all);
      return;
    }
    case 'delete': {
      const { deleteContainer } = require('../lifecycle/delete') as typeof import('../lifecycle/delete');
      deleteContainer(call.root, call.id, call.force);
      return;
    }
    case 'list': {
      const { listStates } = require('../lifecycle/query') as typeof import('../lifecycle/query');
      const { formatList } = require('./list') as typeof import('./list');
      stdout(formatList(listStates(call.root), call.format, call.quiet));
      return;
    }
    case 'features': {
      // Written at build time from src/features.ts (scripts/build-features.js).
      let text: string;
      try {
        text = readFileSync(join(packageRoot, 'dist', 'features.json'), 'utf8');
      } catch (err) {
        throw new TsrunError(`the features document is missing (npm run build makes it): ${messageOf(err)}`);
      }
      stdout(text);
      return;
    }
    case 'version':
      // As yargs and runc: a failed write of the version is not an error.
      try {
        stdout(versionText() + '\n');
      } catch {
        // stdout full or gone
      }
  }
}
