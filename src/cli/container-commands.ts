// create, run and exec: the commands that make processes. Their plain forms
// (hot-path.ts parses them) run from a bundle of their own,
// dist/tsrun-container.js, which bin/tsrun loads instead of the whole
// command line: yargs and the other commands were about 40% of what create
// loaded. yargs' handlers for these commands come here too, so that both
// ways run the same code on the same args.
import { TsrunError, messageOf } from '../errors';
import { reportError } from '../log';
import { type ContainerCall, isContainerCall, parseHot, prepareCommandLine } from './hot-path';

/** create's options from yargs-style args (yargs' argv, or what the plain parser makes). */
export function createOptions(a: Record<string, unknown>) {
  const preserveFds = a['preserve-fds'] as number;
  if (!Number.isInteger(preserveFds) || preserveFds < 0) throw new TsrunError('must be a non-negative integer', '--preserve-fds');
  const str = (k: string) => (a[k] === undefined ? undefined : String(a[k]));
  return {
    root: String(a.root),
    id: String(a['container-id']),
    bundle: String(a.bundle),
    pidFile: str('pid-file'),
    consoleSocket: str('console-socket'),
    noPivot: !!a['no-pivot'],
    noNewKeyring: !!a['no-new-keyring'],
    preserveFds,
  };
}

/** run's options: create's, and whether to wait and to keep the container. */
export function runOptions(a: Record<string, unknown>) {
  return { ...createOptions(a), detach: !!a.detach, keep: !!a.keep };
}

function execOptionsOf(a: Record<string, unknown>) {
  const { execOptions } = require('../container/exec') as typeof import('../container/exec');
  return execOptions(a);
}

/** What the call runs with: the options runContainerCall derives from its args, by the same functions. */
export function containerOptions(call: ContainerCall) {
  const derive = { create: createOptions, run: runOptions, exec: execOptionsOf }[call.command];
  return { command: call.command, options: derive(call.args) };
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
        return await exec(execOptionsOf(call.args));
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
