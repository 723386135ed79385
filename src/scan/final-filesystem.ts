/**
 * The final file system: which flagged files a container started from the image would really see, after later
 * layers' whiteouts, opaque directories and replacements. A miner a later layer deleted is still reported (it is
 * still shipped in the image and its history), with the layer that hid it.
 */
import { isUnder } from './entry-path.ts';
import type { LayerReport } from './layer-report.ts';

export type Removal = { by: 'whiteout' | 'opaque-directory' | 'replaced'; layerIndex: number };

/** For the file at `path` added by layer `index`, the first later layer that removes it, if any. */
export function findRemoval(layers: readonly LayerReport[], index: number, path: string): Removal | undefined {
  for (let later = index + 1; later < layers.length; later += 1) {
    const layer = layers[later]!;
    if (layer.whiteouts.some((deleted) => isUnder(path, deleted))) return { by: 'whiteout', layerIndex: later };
    if (layer.opaqueDirs.some((directory) => directory !== path && isUnder(path, directory))) return { by: 'opaque-directory', layerIndex: later };
    if (layer.paths.some((added) => added === path || isUnder(path, added))) return { by: 'replaced', layerIndex: later };
  }
  return undefined;
}
