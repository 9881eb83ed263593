// The process an exec runs, as runc's exec builds it: either a process.json
// (the spec's process object, validated like config.json's), or the
// container's own process with the command line's changes: args, -t,
// --cwd, -e, -u, -g, --cap, --no-new-privs, --apparmor, --process-label.
import { readFileSync } from 'node:fs';
import { TsrunError, messageOf } from '../errors';
import { capabilityNumber } from '../plan/capabilities';
import { parseJson } from '../spec/json';
import { formatProblems } from '../spec/load';
import { schemaProblems } from '../spec/schema';
import { processProblems } from '../spec/semantic';
import type { CapabilitySet, Process, Spec } from '../spec/types';

export interface ProcessFlags {
  command: string[];
  processFile?: string;
  cwd?: string;
  env: string[];
  tty: boolean;
  user?: string;
  additionalGids: string[];
  caps: string[];
  noNewPrivs: boolean;
  apparmor?: string;
  processLabel?: string;
}

function readProcessFile(path: string): Process {
  let data: unknown;
  try {
    data = parseJson(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new TsrunError(`cannot read ${path}: ${messageOf(err)}`, '--process');
  }
  const problems = schemaProblems('process', data, 'process');
  if (problems.length) throw new TsrunError(`invalid process in ${path}:\n  ${formatProblems(problems)}`);
  return data as Process;
}

function id(value: string, flag: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 0xffffffff) throw new TsrunError(`${JSON.stringify(value)} is not a numeric id`, flag);
  return Number(value);
}

/** NAME=value entries, a later one replacing an earlier one of the same name (as runc's init does). */
export function mergeEnv(base: string[], added: string[]): string[] {
  const out = new Map<string, string>();
  for (const e of [...base, ...added]) {
    const i = e.indexOf('=');
    out.set(i < 0 ? e : e.slice(0, i), e);
  }
  return [...out.values()];
}

export function execProcess(flags: ProcessFlags, spec: Spec): Process {
  let proc: Process;
  if (flags.processFile !== undefined) {
    if (flags.command.length) throw new TsrunError('a command and --process cannot both be given', '--process');
    proc = readProcessFile(flags.processFile);
    // As runc: a process without a profile or label of its own runs under the container's.
    // An empty one is none, as runc takes it.
    proc.apparmorProfile ||= spec.process?.apparmorProfile;
    proc.selinuxLabel ||= spec.process?.selinuxLabel;
  } else {
    if (!flags.command.length) throw new TsrunError('exec needs a command, or --process');
    const base = structuredClone(spec.process!);
    proc = { ...base, args: flags.command, terminal: flags.tty };
    if (flags.cwd !== undefined) proc.cwd = flags.cwd;
    proc.env = mergeEnv(base.env ?? [], flags.env);
    if (flags.user !== undefined) {
      const [uid, gid, ...rest] = flags.user.split(':');
      if (rest.length || uid === '') throw new TsrunError(`${JSON.stringify(flags.user)} is not uid[:gid]`, '--user');
      // As runc: what is not given stays the container's.
      const current = proc.user ?? { uid: 0, gid: 0 };
      proc.user = { ...current, uid: id(uid, '--user'), gid: gid === undefined ? current.gid : id(gid, '--user') };
    }
    if (flags.additionalGids.length) {
      // As runc: added to the container's.
      const current = proc.user ?? { uid: 0, gid: 0 };
      proc.user = { ...current, additionalGids: [...(current.additionalGids ?? []), ...flags.additionalGids.map((g) => id(g, '--additional-gids'))] };
    }
    if (flags.caps.length) {
      // As runc since 1.1.2: every set but the inheritable one, which would
      // hand the capability to any program with it as a file capability
      // (CVE-2022-29162). Ambient then needs inheritable, so it is left out
      // at plan time as for the init.
      const caps = proc.capabilities ?? {};
      for (const c of flags.caps) {
        if (capabilityNumber(c) === undefined) throw new TsrunError(`unknown capability ${JSON.stringify(c)}`, '--cap');
        for (const set of ['bounding', 'effective', 'permitted', 'ambient'] as CapabilitySet[]) {
          if (!(caps[set] ?? []).includes(c)) caps[set] = [...(caps[set] ?? []), c];
        }
      }
      proc.capabilities = caps;
    }
    if (flags.noNewPrivs) proc.noNewPrivileges = true;
    // As runc: an empty value keeps the container's.
    if (flags.apparmor) proc.apparmorProfile = flags.apparmor;
    if (flags.processLabel) proc.selinuxLabel = flags.processLabel;
    const problems = schemaProblems('process', proc, 'process');
    if (problems.length) throw new TsrunError(`invalid process:\n  ${formatProblems(problems)}`);
  }
  if (!proc.args?.length) throw new TsrunError('must not be empty', 'process.args');
  const problems = processProblems(proc);
  if (problems.length) throw new TsrunError(`invalid process:\n  ${formatProblems(problems)}`);
  if (proc.execCPUAffinity) throw new TsrunError('is not supported by tsrun yet', 'process.execCPUAffinity');
  return proc;
}
