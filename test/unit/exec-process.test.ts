// The process of `tsrun exec` (src/container/exec-process.ts): from a
// process.json, or from the container's own process changed by the flags.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { execProcess, type ProcessFlags } from '../../src/container/exec-process';
import type { Spec } from '../../src/spec/types';

const dir = mkdtempSync(join(tmpdir(), 'tsrun-exec-process-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const spec = { process: { args: ['sh'], cwd: '/', apparmorProfile: 'container-profile', selinuxLabel: 'container_t' } } as unknown as Spec;
const flags = (more: Partial<ProcessFlags>): ProcessFlags => ({ command: [], env: [], tty: false, additionalGids: [], caps: [], noNewPrivs: false, ...more });

// As runc (its exec takes the container's profile and label unless the
// process names one; an empty flag is no flag).
t.test("AppArmor and SELinux: a process.json without a profile or label runs under the container's", async (t) => {
  const file = join(dir, 'process.json');
  writeFileSync(file, JSON.stringify({ args: ['true'], cwd: '/' }));
  t.equal(execProcess(flags({ processFile: file }), spec).apparmorProfile, 'container-profile');
  writeFileSync(file, JSON.stringify({ args: ['true'], cwd: '/', apparmorProfile: 'its-own' }));
  t.equal(execProcess(flags({ processFile: file }), spec).apparmorProfile, 'its-own', 'its own profile when it names one');
  t.equal(execProcess(flags({ command: ['true'] }), spec).apparmorProfile, 'container-profile', 'with flags: the container\'s');
  t.equal(execProcess(flags({ command: ['true'], apparmor: 'flag' }), spec).apparmorProfile, 'flag', '--apparmor');
  t.equal(execProcess(flags({ command: ['true'], apparmor: '' }), spec).apparmorProfile, 'container-profile', '--apparmor ""');
  writeFileSync(file, JSON.stringify({ args: ['true'], cwd: '/' }));
  t.equal(execProcess(flags({ processFile: file }), spec).selinuxLabel, 'container_t');
  writeFileSync(file, JSON.stringify({ args: ['true'], cwd: '/', selinuxLabel: '', apparmorProfile: '' }));
  t.same([execProcess(flags({ processFile: file }), spec).selinuxLabel, execProcess(flags({ processFile: file }), spec).apparmorProfile], ['container_t', 'container-profile'], 'an empty one is none (runc)');
  writeFileSync(file, JSON.stringify({ args: ['true'], cwd: '/', selinuxLabel: 'its_own_t' }));
  t.equal(execProcess(flags({ processFile: file }), spec).selinuxLabel, 'its_own_t');
  t.equal(execProcess(flags({ command: ['true'] }), spec).selinuxLabel, 'container_t');
  t.equal(execProcess(flags({ command: ['true'], processLabel: 'flag_t' }), spec).selinuxLabel, 'flag_t', '--process-label');
  t.equal(execProcess(flags({ command: ['true'], processLabel: '' }), spec).selinuxLabel, 'container_t', '--process-label ""');
});
