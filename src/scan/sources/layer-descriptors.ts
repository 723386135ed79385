/**
 * Layer descriptors: pairs the layers a manifest lists (blobs, in order from the base) with the config's diff_ids,
 * which become the cache keys. A mismatch in count means the image is inconsistent and is refused, since keys would
 * otherwise be attached to the wrong content.
 */
import { NomineError } from '../../core/errors.ts';
import type { ImageConfig, LayerDescriptor } from '../image-source.ts';

export interface ManifestLayer {
  digest?: string;
  mediaType?: string;
  size?: number;
  /** Key to use when neither a diff_id nor a digest is known (`docker-archive:/x.tar#ab12/layer.tar`). */
  fallbackKey: string;
}

export function describeLayers(config: ImageConfig, layers: ManifestLayer[], part: string): LayerDescriptor[] {
  const diffIds = config.rootfs?.diff_ids;
  if (diffIds && diffIds.length !== layers.length) {
    throw new NomineError(
      'invalid-input',
      `image config lists ${diffIds.length} diff_ids but the manifest lists ${layers.length} layers`,
      part,
    );
  }
  return layers.map((layer, index) => {
    const diffId = diffIds?.[index];
    const key = diffId ?? layer.digest;
    return {
      index,
      key: key ?? layer.fallbackKey,
      cacheable: key !== undefined,
      ...(layer.digest ? { digest: layer.digest } : {}),
      ...(diffId ? { diffId } : {}),
      ...(layer.mediaType ? { mediaType: layer.mediaType } : {}),
      ...(layer.size !== undefined ? { size: layer.size } : {}),
    };
  });
}
