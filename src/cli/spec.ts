// `tsrun spec`: writes the default config.json into the bundle directory,
// never over an existing one (as runc).
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsrunError } from '../errors';
import { defaultSpec } from '../spec/default';

export function writeSpec(bundle: string, rootless: boolean): void {
  const file = join(bundle, 'config.json');
  if (existsSync(file)) throw new TsrunError(`${file} already exists; remove it first`);
  const spec = defaultSpec({ rootless, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });
  writeFileSync(file, JSON.stringify(spec, null, '\t') + '\n', { mode: 0o666 });
}
