/** The scan progress bar: layers and bytes on stderr, only on a terminal and never with machine output. */
import { lazyRequire } from '../platform/lazy-require.ts';
import type { ScanProgress } from '../scan/scan-image.ts';

// Loaded for a terminal only: machine output and CI logs never draw the bar.
const progressBars = lazyRequire<typeof import('cli-progress')>('cli-progress');

export function terminalScanProgress(stream: NodeJS.WriteStream): ScanProgress | undefined {
  if (!stream.isTTY) return undefined;
  const cliProgress = progressBars();
  const bar = new cliProgress.SingleBar(
    { stream, format: '{image} [{bar}] layers {layers} | {mb} MB read', hideCursor: true, clearOnComplete: true, etaBuffer: 20 },
    cliProgress.Presets.shades_classic,
  );
  let layersTotal = 0;
  let layersDone = 0;
  let finishedBytes = 0;
  let image = '';
  const update = (current: number) => bar.update(layersDone, { image, layers: `${layersDone}/${layersTotal}`, mb: ((finishedBytes + current) / 1e6).toFixed(0) });
  let current = 0;
  return {
    imageOpened(name, layers) {
      image = name.length > 40 ? `…${name.slice(-39)}` : name;
      layersTotal = layers;
      layersDone = 0;
      finishedBytes = 0;
      bar.start(layers, 0, { image, layers: `0/${layers}`, mb: '0' });
    },
    // A layer is read in full before the next starts, but its analysis may finish after: bytes move on at the
    // start of the next layer, the layer count when its analysis is done.
    layerStarted() {
      finishedBytes += current;
      current = 0;
    },
    bytesRead(bytes) {
      current = bytes;
      update(current);
    },
    layerDone() {
      layersDone += 1;
      update(current);
      if (layersDone >= layersTotal) bar.stop();
    },
  };
}
