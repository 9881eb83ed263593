// linux.resources.blockIO (config-linux.md "Block IO").
//
// v1 (blkio): weight -> blkio.weight, or blkio.bfq.weight where the kernel
// has only the BFQ files (as here); weightDevice -> blkio.weight_device (or
// blkio.bfq.weight_device) "major:minor weight"; leafWeight and the
// leafWeight of a device -> blkio.leaf_weight(_device), which only the
// removed CFQ scheduler had: refused where the file is missing;
// throttle*Device -> blkio.throttle.{read,write}_{bps,iops}_device
// "major:minor rate".
//
// v2 (io): weight -> io.bfq.weight as it is, or else io.weight =
// 1 + (weight - 10) * 9999 / 990 (v1's [10, 1000] onto [1, 10000], runc's
// formula); weightDevice likewise with "major:minor weight"; throttles ->
// io.max "major:minor rbps=|wbps=|riops=|wiops=rate"; leaf weights:
// refused (v2 has none).
import { join } from '../../spec/fieldpath';
import { type Controller, type Reader, type Write, int, refuse, setFields, write } from './controller';

const F = 'linux.resources.blockIO';

interface WeightDevice {
  major: number;
  minor: number;
  weight?: number;
  leafWeight?: number;
}
interface ThrottleDevice {
  major: number;
  minor: number;
  rate: number;
}
interface BlockIO {
  weight?: number;
  leafWeight?: number;
  weightDevice?: WeightDevice[];
  throttleReadBpsDevice?: ThrottleDevice[];
  throttleWriteBpsDevice?: ThrottleDevice[];
  throttleReadIOPSDevice?: ThrottleDevice[];
  throttleWriteIOPSDevice?: ThrottleDevice[];
}

const throttles = [
  ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device', 'rbps'],
  ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device', 'wbps'],
  ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device', 'riops'],
  ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device', 'wiops'],
] as const;

export function blkioWeightToIoWeight(weight: number): number {
  return 1 + Math.trunc(((weight - 10) * 9999) / 990);
}

const dev = (d: { major: number; minor: number }) => `${d.major}:${d.minor}`;

function v1Writes(b: BlockIO, current: Reader): Write[] {
  const out: Write[] = [];
  const bfq = current('blkio.weight') === undefined && current('blkio.bfq.weight') !== undefined;
  const weightFile = bfq ? 'blkio.bfq.weight' : 'blkio.weight';
  const deviceFile = bfq ? 'blkio.bfq.weight_device' : 'blkio.weight_device';
  if (b.weight) out.push(write(weightFile, int(b.weight), `${F}.weight`));
  if (b.leafWeight) out.push(write('blkio.leaf_weight', int(b.leafWeight), `${F}.leafWeight`));
  b.weightDevice?.forEach((d, i) => {
    const f = join(`${F}.weightDevice`, i);
    if (d.weight) out.push(write(deviceFile, `${dev(d)} ${int(d.weight)}`, `${f}.weight`));
    if (d.leafWeight) out.push(write('blkio.leaf_weight_device', `${dev(d)} ${int(d.leafWeight)}`, `${f}.leafWeight`));
  });
  for (const [key, file] of throttles) {
    b[key]?.forEach((d, i) => out.push(write(file, `${dev(d)} ${int(d.rate)}`, join(`${F}.${key}`, i))));
  }
  return out;
}

function v2Writes(b: BlockIO, current: Reader): Write[] {
  if (b.leafWeight) refuse(`${F}.leafWeight`, 'cgroup v2 has no leaf weights');
  b.weightDevice?.forEach((d, i) => d.leafWeight && refuse(`${join(`${F}.weightDevice`, i)}.leafWeight`, 'cgroup v2 has no leaf weights'));
  const out: Write[] = [];
  const bfq = current('io.bfq.weight') !== undefined;
  const weight = (w: number) => (bfq ? int(w) : String(blkioWeightToIoWeight(w)));
  const weightFile = bfq ? 'io.bfq.weight' : 'io.weight';
  if (b.weight) out.push(write(weightFile, weight(b.weight), `${F}.weight`));
  b.weightDevice?.forEach((d, i) => d.weight && out.push(write(weightFile, `${dev(d)} ${weight(d.weight)}`, `${join(`${F}.weightDevice`, i)}.weight`)));
  for (const [key, , v2Key] of throttles) {
    b[key]?.forEach((d, i) => out.push(write('io.max', `${dev(d)} ${v2Key}=${int(d.rate)}`, join(`${F}.${key}`, i))));
  }
  return out;
}

export const blkio: Controller = {
  name: 'blkio / io',
  v1: 'blkio',
  v2: 'io',
  handles: ['weight', 'leafWeight', 'weightDevice', ...throttles.map(([k]) => k)].map((k) => `${F}.${k}`),
  fields: (r) => setFields(r.blockIO, F),
  writes(r, version, current) {
    const b = r.blockIO as BlockIO | undefined;
    if (!b) return [];
    return version === 1 ? v1Writes(b, current) : v2Writes(b, current);
  },
};
