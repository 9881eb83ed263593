// Every case of the suite, in the order they run.
import { CaseDef } from '../lib/case';
import { runtimeCases, runtimeLinuxCases } from './runtime';

export const allCases: CaseDef[] = [...runtimeCases, ...runtimeLinuxCases];
