// ps: the processes of a container, as runc's ps.go. --format json prints
// the pids of the container's cgroups as a JSON array (containerd's shim
// reads it for Pids); table runs the host's ps(1) with the given arguments
// (-ef by default) and prints its header and the lines whose PID column
// holds one of those pids. The pids are those of the host's pid namespace,
// whatever the container's own.
//
// As runc, a stopped container is no error: its cgroups are empty (or gone),
// so the table is the header alone and the json an empty array.
import { spawnSync } from 'node:child_process';
import { TsrunError, messageOf } from '../errors';
import { messages } from '../messages';
import { stdout } from '../output';
import { withContainer } from './container';

export function ps(root: string, id: string, format: 'table' | 'json', psArgs: string[]): void {
  // A record-less container (its create died before writing one) has no cgroups.
  const pids = withContainer(root, id, 'shared', (c) => {
    // Rootless without a cgroup it could write: nothing to list from.
    if (c.record?.cgroup.rootless && !c.record.cgroup.dirs.length) throw new TsrunError(messages.noCgroup(id, 'list its processes'));
    return c.record ? c.cgroups.pids() : [];
  });
  if (format === 'json') {
    stdout(`${JSON.stringify(pids)}\n`);
    return;
  }
  stdout(filterTable(runPs(psArgs.length ? psArgs : ['-ef']), new Set(pids), psArgs));
}

function runPs(args: string[]): string {
  const r = spawnSync('ps', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new TsrunError(`cannot run ps ${args.join(' ')}: ${messageOf(r.error)}`);
  if (r.status !== 0) {
    const how = r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`;
    throw new TsrunError(`ps ${args.join(' ')}: ${how}: ${(r.stderr + r.stdout).trim()}`);
  }
  return r.stdout;
}

/**
 * The header and the lines of `output` whose PID column is in `pids`. As
 * runc: the column is the header's field named PID, and a line is split on
 * whitespace. Where that field is no number (a column before PID holds
 * spaces, as `-o comm,pid` with a command name like "npm exec"), runc fails;
 * tsrun then reads the number under the header's PID instead, which ps
 * right-aligns with it.
 */
export function filterTable(output: string, pids: Set<number>, psArgs: string[]): string {
  const lines = output.split('\n');
  const header = lines[0];
  const pidIndex = header.trim().split(/\s+/).indexOf('PID');
  if (pidIndex < 0) throw new TsrunError(messages.noPidField(psArgs.length ? psArgs : ['-ef']));
  const pidEnd = / PID(?= |$)|^PID(?= |$)/.exec(header)!;
  const pidColumnEnd = pidEnd.index + pidEnd[0].length - 1;
  let out = `${header}\n`;
  for (const line of lines.slice(1)) {
    if (!line) continue;
    const field = line.trim().split(/\s+/)[pidIndex] ?? '';
    const pid = /^\d+$/.test(field) ? field : underColumn(line, pidColumnEnd);
    if (pid === undefined) throw new TsrunError(`unable to parse pid ${JSON.stringify(field)} in the PID column of ps output: ${line}`);
    if (pids.has(Number(pid))) out += `${line}\n`;
  }
  return out;
}

/** The number whose last digit is at column `end` of the line, if there is one. */
function underColumn(line: string, end: number): string | undefined {
  if (!/\d/.test(line[end] ?? '') || /\d/.test(line[end + 1] ?? '')) return undefined;
  let start = end;
  while (start > 0 && /\d/.test(line[start - 1])) start--;
  return start === 0 || line[start - 1] === ' ' ? line.slice(start, end + 1) : undefined;
}
