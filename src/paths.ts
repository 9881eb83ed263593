// Where tsrun's own files are, whether running compiled (dist/src/...) or
// from the TypeScript sources in tests (src/...).
import { basename, dirname, join } from 'node:path';

export const packageRoot = basename(dirname(__dirname)) === 'dist' ? join(__dirname, '..', '..') : join(__dirname, '..');

/** Validators generated from schemas/ at build time (scripts/build-validators.js). */
export const validatorsDir = join(packageRoot, 'dist', 'validators');

/** The addon and tsrun-init, built by node-gyp. */
export const nativeBuildDir = join(packageRoot, 'build', 'Release');

/** The default state root (--root), as runc's is /run/runc. */
export const defaultRoot = '/run/tsrun';
