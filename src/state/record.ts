// What tsrun keeps about a container in <root>/<id>/state.json: its schema,
// in zod, and the type derived from it. Every read checks the file against
// this schema, so that a damaged or foreign file is an error, never a wrong
// decision. The check runs on every state, start, kill and delete, and
// loading zod itself cost more than those commands' own work, so the build
// compiles this schema to a standalone validator, as it does config.json's
// JSON Schemas (scripts/build-validators.js, dist/validators/state-record.js):
// this module is needed only at build time and for its type.
import { z } from 'zod';

const processRef = z.object({ pid: z.number().int().positive(), startTime: z.string() });

export const stateRecord = z.object({
  id: z.string(),
  bundle: z.string(),
  rootfs: z.string(),
  /** 'creating' until create has finished; the live status is derived from the process. */
  phase: z.enum(['creating', 'created']),
  /** The container's init once known. */
  init: processRef.optional(),
  /** The helper tsrun started, while creating (for cleanup of a half-created container). */
  helper: processRef.optional(),
  created: z.string(),
  owner: z.string(),
  annotations: z.record(z.string()).optional(),
  cgroup: z.object({
    dirs: z.array(
      z.object({
        version: z.union([z.literal(1), z.literal(2)]),
        mountpoint: z.string(),
        controllers: z.array(z.string()),
        path: z.string(),
        dir: z.string(),
      }),
    ),
    created: z.array(z.string()),
    unwritable: z.array(z.string()).optional(),
    rootless: z.boolean().optional(),
  }),
  /** Whether the container has its own pid namespace (then killing the init ends it). */
  ownPidNamespace: z.boolean(),
  /** create --no-new-keyring: the init kept the caller's session keyring (exec then does too). Absent in older state: false. */
  noNewKeyring: z.boolean().optional(),
  /** The config as it was at create: later edits of config.json must not matter. */
  config: z.record(z.unknown()),
  /**
   * linux.resources as tsrun update last left them (create's merged with
   * every update since); absent until the first update, and in the state
   * of older versions: then config's linux.resources are the current ones.
   */
  resources: z.record(z.unknown()).optional(),
  /** linux.intelRdt: the resctrl group (and monitoring group) the container's processes are in, and whether delete removes the group. */
  intelRdt: z.object({ mount: z.string(), group: z.string(), removeGroup: z.boolean(), made: z.boolean().optional(), monitor: z.string().optional() }).optional(),
});

export type StateRecord = z.infer<typeof stateRecord>;
