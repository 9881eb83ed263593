// The CRI test's two images, built here as OCI image archives (image-spec
// "image layout", one uncompressed layer) and imported into containerd's
// k8s.io namespace: a pause image from pause.c compiled static, and a
// busybox image from busybox-static. No registry is needed.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeRootfs } from '../tsrun';
import { run } from '../clients';

export const PAUSE_IMAGE = 'tsrun.test/pause:1';
export const BUSYBOX_IMAGE = 'tsrun.test/busybox:1';

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x' };

interface ImageConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
}

/** Writes `data` as a content-addressed blob of the layout at `dir`; returns its descriptor. */
function blob(dir: string, mediaType: string, data: Buffer): { mediaType: string; digest: string; size: number } {
  const hex = createHash('sha256').update(data).digest('hex');
  writeFileSync(join(dir, 'blobs', 'sha256', hex), data);
  return { mediaType, digest: `sha256:${hex}`, size: data.length };
}

/** An OCI image archive (a tar of an image layout) of `rootfs` as its single layer, named `name`. */
export function ociArchive(work: string, name: string, rootfs: string, config: ImageConfig): string {
  const layout = join(work, 'layout');
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  const layerTar = join(work, 'layer.tar');
  // Owned by root whoever builds it, in a stable order.
  const tar = run(['tar', '--sort=name', '--numeric-owner', '--owner=0', '--group=0', '-C', rootfs, '-cf', layerTar, '.']);
  if (tar.status !== 0) throw new Error(`tar of ${rootfs}: ${tar.stderr}`);
  const layer = blob(layout, 'application/vnd.oci.image.layer.v1.tar', readFileSync(layerTar));
  const imageConfig = {
    architecture: ARCH[process.arch] ?? process.arch,
    os: 'linux',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], ...config },
    // Uncompressed, so the layer's digest is also its diff_id.
    rootfs: { type: 'layers', diff_ids: [layer.digest] },
  };
  const cfg = blob(layout, 'application/vnd.oci.image.config.v1+json', Buffer.from(JSON.stringify(imageConfig)));
  const manifest = blob(layout, 'application/vnd.oci.image.manifest.v1+json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: cfg, layers: [layer] })));
  const tag = name.slice(name.lastIndexOf(':') + 1);
  const index = {
    schemaVersion: 2,
    manifests: [{ ...manifest, annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': tag } }],
  };
  writeFileSync(join(layout, 'index.json'), JSON.stringify(index));
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const archive = join(work, 'image.tar');
  const out = run(['tar', '--numeric-owner', '-C', layout, '-cf', archive, '.']);
  if (out.status !== 0) throw new Error(`tar of the image layout: ${out.stderr}`);
  return archive;
}

/** Builds both images under `dir` and imports them with ctr into the k8s.io namespace, where the CRI looks. */
export function importTestImages(dir: string, ctr: string[]): void {
  const pauseRoot = join(dir, 'pause', 'rootfs');
  mkdirSync(pauseRoot, { recursive: true });
  const cc = run(['gcc', '-static', '-Os', '-s', '-o', join(pauseRoot, 'pause'), join(__dirname, 'pause.c')]);
  if (cc.status !== 0) throw new Error(`compiling pause.c: ${cc.stderr}`);
  const images: [string, string, string, ImageConfig][] = [
    [PAUSE_IMAGE, join(dir, 'pause'), pauseRoot, { Entrypoint: ['/pause'] }],
    [BUSYBOX_IMAGE, join(dir, 'busybox'), makeRootfs(join(dir, 'busybox', 'rootfs')), { Cmd: ['/bin/sh'] }],
  ];
  for (const [name, work, rootfs, config] of images) {
    const imported = run([...ctr, '-n', 'k8s.io', 'images', 'import', ociArchive(work, name, rootfs, config)], { timeout: 120_000 });
    if (imported.status !== 0) throw new Error(`ctr images import ${name}: ${imported.stderr}`);
  }
}
