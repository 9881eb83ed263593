// create, run and exec: the commands that make processes. Their plain forms
// (hot-path.ts parses them) run from a bundle of their own,
// dist/tsrun-container.js, which bin/tsrun loads instead of the whole
// command line: yargs and the other commands were about 40% of what create
// loaded. yargs' handlers for these commands come here too, so that both
// ways run the same code on the same args.
import { TsrunError, messageOf } from '../errors';
import type { ExecOptions } from '../container/exec';
import type { CreateOptions } from '../lifecycle/create';
import { reportError } from '../log';
import { type ContainerCall, isContainerCall, parseHot, prepareCommandLine } from './hot-path';
// bin/tsrun starts a line with the word create, run or exec from this bundle
// instead of the hot one: it runs the line, or names the bundle that does, as
// the hot bundle would.
export { bundleFor, requireCompiled, runHotCommandLine } from './hot-path';

/** --preserve-fds, checked (yargs gives NaN for a word that is no number). */
function preserveFdsOf(a: Record<string, unknown>): number {
  const n = a['preserve-fds'] as number;
  if (!Number.isInteger(n) || n < 0) throw new TsrunError('must be a non-negative integer', '--preserve-fds');
  return n;
}

/** An option's value as a string, or undefined if not given. */
const optional = (a: Record<string, unknown>, key: string) => (a[key] === undefined ? undefined : String(a[key]));

/** A flag given once or more (yargs gives a string, or an array of them). */
function list(v: unknown): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

/** --rootless: true, false or auto (the default). */
function rootlessOf(a: Record<string, unknown>): string {
  const v = list(a.rootless).pop() ?? 'auto';
  if (v !== 'true' && v !== 'false' && v !== 'auto') throw new TsrunError(`${JSON.stringify(v)} is not true, false or auto`, '--rootless');
  return v;
}

/** create's options from yargs-style args (yargs' argv, or what the plain parser makes). */
export function createOptions(a: Record<string, unknown>): CreateOptions {
  return {
    root: String(a.root),
    id: String(a['container-id']),
    bundle: String(a.bundle),
    pidFile: optional(a, 'pid-file'),
    consoleSocket: optional(a, 'console-socket'),
    noPivot: !!a['no-pivot'],
    noNewKeyring: !!a['no-new-keyring'],
    preserveFds: preserveFdsOf(a),
    rootless: rootlessOf(a),
  };
}

/** run's options: create's, and whether to wait and to keep the container. */
export function runOptions(a: Record<string, unknown>) {
  return { ...createOptions(a), detach: !!a.detach, keep: !!a.keep };
}

/** exec's options, from the same kind of args. */
export function execOptions(a: Record<string, unknown>): ExecOptions {
  return {
    root: String(a.root),
    id: String(a['container-id']),
    command: list(a['--']),
    processFile: optional(a, 'process'),
    cwd: optional(a, 'cwd'),
    env: list(a.env),
    tty: !!a.tty,
    user: optional(a, 'user'),
    // runc takes -g more than once; "1,2" is taken too.
    additionalGids: list(a['additional-gids']).flatMap((g) => g.split(',')),
    caps: list(a.cap),
    noNewPrivs: !!a['no-new-privs'],
    apparmor: optional(a, 'apparmor'),
    processLabel: optional(a, 'process-label'),
    consoleSocket: optional(a, 'console-socket'),
    detach: !!a.detach,
    pidFile: optional(a, 'pid-file'),
    preserveFds: preserveFdsOf(a),
    ignorePaused: !!a['ignore-paused'],
    cgroup: list(a.cgroup),
  };
}

/** What the call runs with: the options runContainerCall derives from its args, by the same functions. */
export function containerOptions(call: ContainerCall) {
  const derive = { create: createOptions, run: runOptions, exec: execOptions }[call.command];
  return { command: call.command, options: derive(call.args) };
}

/** For the build's warm-up of this bundle's code cache only: create's steps up to tsrun-init's start, in scratch directories and an in-memory cgroup tree. */
export function rehearseCreate(root: string, bundle: string): number {
  return (require('../lifecycle/create-rehearsal') as typeof import('../lifecycle/create-rehearsal')).rehearseCreate(root, bundle);
}

/** Runs the call; its exit status. An error of create or run is thrown; exec's are its own (255). */
export async function runContainerCall(call: ContainerCall): Promise<number> {
  switch (call.command) {
    case 'create': {
      const { create } = require('../lifecycle/create') as typeof import('../lifecycle/create');
      create(createOptions(call.args));
      return 0;
    }
    case 'run': {
      const { run } = require('../lifecycle/run') as typeof import('../lifecycle/run');
      return run(runOptions(call.args));
    }
    case 'exec': {
      const { exec } = require('../container/exec') as typeof import('../container/exec');
      // As runc: whatever stops the process from running is "exec failed: ..."
      // with status 255, so that it cannot be taken for the process's own.
      try {
        return await exec(execOptions(call.args));
      } catch (err) {
        reportError(`exec failed: ${messageOf(err)}`);
        return 255;
      }
    }
  }
}

/** The entry of dist/tsrun-container.js: bin/tsrun sends it only the plain forms of create, run and exec. */
export async function main(argv: string[]): Promise<number> {
  prepareCommandLine(argv);
  const call = parseHot(argv);
  if (!call || !isContainerCall(call)) throw new Error(`not a plain create, run or exec: ${argv.join(' ')}`);
  try {
    return await runContainerCall(call);
  } catch (err) {
    reportError(messageOf(err));
    return 1;
  }
}
