// A small client of the Kubernetes CRI v1 gRPC API (api.proto, next to this
// file, is the subset the tests use): one promise-returning method per RPC,
// each with a deadline, so a wedged runtime fails a test instead of hanging it.
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** A CRI message as proto-loader gives and takes it: snake_case keys, enums as names. */
export type CriMessage = Record<string, any>;

export interface CallOptions {
  /** Milliseconds before the call fails with DEADLINE_EXCEEDED (default 60 s). */
  timeoutMs?: number;
}

const runtimeRpcs = [
  'Version',
  'RunPodSandbox',
  'StopPodSandbox',
  'RemovePodSandbox',
  'PodSandboxStatus',
  'ListPodSandbox',
  'CreateContainer',
  'StartContainer',
  'StopContainer',
  'RemoveContainer',
  'ListContainers',
  'ContainerStatus',
  'UpdateContainerResources',
  'ReopenContainerLog',
  'ExecSync',
  'Exec',
  'Attach',
  'ContainerStats',
  'ListContainerStats',
  'PodSandboxStats',
] as const;
const imageRpcs = ['ListImages', 'ImageStatus'] as const;

type Rpc = (typeof runtimeRpcs)[number] | (typeof imageRpcs)[number];

export type CriClient = {
  [K in Rpc as Uncapitalize<K>]: (req?: CriMessage, opts?: CallOptions) => Promise<CriMessage>;
} & { close(): void };

const DEFAULT_TIMEOUT_MS = 60_000;

let loaded: grpc.GrpcObject | undefined;
function api(): grpc.GrpcObject {
  loaded ??= grpc.loadPackageDefinition(
    protoLoader.loadSync(join(__dirname, 'api.proto'), {
      keepCase: true,
      // int64 as a JS number: exact for every size, count and duration the
      // tests meet; only nanosecond timestamps (~1.7e18) lose their last digits.
      longs: Number,
      enums: String,
      defaults: true,
      oneofs: true,
    }),
  );
  return loaded;
}

type Unary = (req: CriMessage, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: CriMessage) => void) => void;

function bind(stub: grpc.Client, rpc: Rpc) {
  const call = (stub as unknown as Record<string, Unary>)[rpc].bind(stub);
  return (req: CriMessage = {}, opts: CallOptions = {}) =>
    new Promise<CriMessage>((resolve, reject) => {
      const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      call(req, new grpc.Metadata(), { deadline }, (err, res) => {
        if (err) {
          // The status name (NOT_FOUND, UNKNOWN, ...) and the runtime's own words.
          const e = new Error(`CRI ${rpc}: ${grpc.status[err.code] ?? err.code}: ${err.details}`) as Error & { code?: number };
          e.code = err.code;
          reject(e);
        } else resolve(res ?? {});
      });
    });
}

const uncapitalize = <K extends string>(s: K) => (s[0].toLowerCase() + s.slice(1)) as Uncapitalize<K>;

/** A client of the CRI runtime listening on the unix socket at `socketPath`. */
export function criClient(socketPath: string): CriClient {
  const v1 = (api().runtime as grpc.GrpcObject).v1 as grpc.GrpcObject;
  const address = `unix://${socketPath}`;
  const credentials = grpc.credentials.createInsecure();
  const runtime = new (v1.RuntimeService as grpc.ServiceClientConstructor)(address, credentials);
  const images = new (v1.ImageService as grpc.ServiceClientConstructor)(address, credentials);
  const client: Partial<Record<string, unknown>> = {
    close() {
      runtime.close();
      images.close();
    },
  };
  for (const rpc of runtimeRpcs) client[uncapitalize(rpc)] = bind(runtime, rpc);
  for (const rpc of imageRpcs) client[uncapitalize(rpc)] = bind(images, rpc);
  return client as CriClient;
}
