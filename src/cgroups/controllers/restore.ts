// What to write to a cgroup file to put back the value it had before an
// update wrote `written` to it (null: no safe way to). Most files read
// back in the form they are written in; the exceptions are here:
// - files of one line per device (or interface, or RDMA device), where a
//   write changes only the line of its key: that line is written back, or
//   the key's "no limit" value if there was none;
// - memory.oom_control, which reads "oom_kill_disable N" among counters;
// - weights that read "default N" (v2's io.bfq.weight, io.weight).

/** The value of a keyed line that removes the key's limit, per file; null: the file has none. */
const keyedFiles: Record<string, ((key: string) => string) | null> = {
  'blkio.throttle.read_bps_device': (k) => `${k} 0`,
  'blkio.throttle.write_bps_device': (k) => `${k} 0`,
  'blkio.throttle.read_iops_device': (k) => `${k} 0`,
  'blkio.throttle.write_iops_device': (k) => `${k} 0`,
  'io.max': (k) => `${k} rbps=max wbps=max riops=max wiops=max`,
  'rdma.max': (k) => `${k} hca_handle=max hca_object=max`,
  'net_prio.ifpriomap': (k) => `${k} 0`,
  'blkio.weight_device': (k) => `${k} 0`,
  'blkio.bfq.weight_device': (k) => `${k} 0`,
  'io.weight': (k) => `${k} default`,
  'io.bfq.weight': (k) => `${k} default`,
  'blkio.leaf_weight_device': (k) => `${k} 0`,
};

export function restoreValue(file: string, before: string, written: string): string | null {
  const lines = before.split('\n').filter((l) => l.trim() !== '');
  const keyed = keyedFiles[file];
  const key = /^(\S+)\s/.exec(written)?.[1];
  if (keyed && key) {
    return lines.find((l) => l.split(/\s+/)[0] === key) ?? keyed(key);
  }
  if (file === 'memory.oom_control') return /^oom_kill_disable (\d+)$/m.exec(before)?.[1] ?? null;
  const byDefault = lines.length ? /^default (\d+)$/.exec(lines[0]) : null;
  if (byDefault && (file === 'io.weight' || file === 'io.bfq.weight' || file === 'blkio.bfq.weight')) return byDefault[1];
  // A value of one line (or none: an empty cpuset) reads as it is written.
  if (lines.length <= 1 && !keyed) return (lines[0] ?? '').trim();
  return null;
}
