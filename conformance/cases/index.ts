// Every case of the suite, in the order they run.
import { CaseDef } from '../lib/case';
import { cgroupCases } from './cgroups';
import { configCases } from './config';
import { corpusCases } from './corpus';
import { featureCases } from './features';
import { hookCases } from './hooks';
import { linuxCases } from './linux';
import { operationCases } from './operations';
import { runtimeCases, runtimeLinuxCases } from './runtime';

export const allCases: CaseDef[] = [
  ...runtimeCases,
  ...runtimeLinuxCases,
  ...configCases,
  ...hookCases,
  ...linuxCases,
  ...cgroupCases,
  ...operationCases,
  ...featureCases,
  ...corpusCases(),
];
