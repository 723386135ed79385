/**
 * Layer delivery: hands one layer blob to the scanner's `onLayer`, optionally through a digest verifier, waits for
 * it, then makes sure the blob was consumed to its end, so the digest is checked and the outer stream can move on
 * even when the scanner stopped reading early.
 */
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { LayerDescriptor } from '../image-source.ts';
import { createDigestVerifier, type VerifyOptions } from './digest-verifier.ts';

export type OnLayer = (layer: LayerDescriptor, blob: Readable) => Promise<void>;

export async function deliverLayer(source: Readable, layer: LayerDescriptor, onLayer: OnLayer, verify?: VerifyOptions): Promise<void> {
  let blob = source;
  if (verify) {
    const verifier = createDigestVerifier(verify);
    // pipe() does not forward errors: a truncated outer archive must fail the blob the scanner is reading.
    source.on('error', (error) => verifier.destroy(error));
    blob = source.pipe(verifier);
  }
  let failure: unknown;
  blob.on('error', (error) => {
    failure ??= error;
  });
  await onLayer(layer, blob);
  if (failure) throw failure;
  if (!blob.readableEnded && !blob.destroyed) {
    blob.resume();
    await finished(blob);
  }
  if (failure) throw failure;
}
