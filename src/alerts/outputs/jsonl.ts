/**
 * JSON lines output: one alert object per line, on stdout or appended to a file (`--alerts FILE`), for `jq`, log
 * shippers and SIEM file inputs. An update of an alert is another line with the same id and a higher count. The file
 * is opened for each batch and synced before the batch counts as delivered, so a rotated file (renamed, or copied
 * and truncated) is picked up by the next batch and a crash loses nothing that was acknowledged.
 */
import { open } from 'node:fs/promises';
import type { Alert } from '../alert.ts';
import type { AlertOutput, DeliveryResult } from '../alert-output.ts';

export type JsonlOutputOptions = { path: string } | { stream: NodeJS.WritableStream };

function failed(error: unknown, where: string): DeliveryResult {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return { handled: 0, rejected: 0, failedAttempts: 1, failure: { message: `${where}: ${code ? `${code} ` : ''}${message}` } };
}

function linesOf(alerts: readonly Alert[]): string {
  return alerts.map((alert) => `${JSON.stringify(alert)}\n`).join('');
}

/** Writes to a stream and waits until it took the data. */
function writeToStream(stream: NodeJS.WritableStream, text: string): Promise<Error | undefined> {
  return new Promise((resolve) => {
    stream.write(text, (error) => resolve(error ?? undefined));
  });
}

export function createJsonlOutput(options: JsonlOutputOptions): AlertOutput {
  if ('stream' in options) {
    const { stream } = options;
    // A broken stream (EPIPE on a closed stdout) also emits 'error', which would crash the agent unheard; the
    // write callback already reports it as a failure.
    stream.on('error', () => undefined);
    return {
      async send(alerts) {
        if (alerts.length === 0) return { handled: 0, rejected: 0, failedAttempts: 0 };
        const error = await writeToStream(stream, linesOf(alerts));
        return error ? failed(error, 'stdout') : { handled: alerts.length, rejected: 0, failedAttempts: 0 };
      },
    };
  }
  const { path } = options;
  return {
    async send(alerts) {
      if (alerts.length === 0) return { handled: 0, rejected: 0, failedAttempts: 0 };
      let handle;
      let sizeBefore: number | undefined;
      try {
        handle = await open(path, 'a', 0o600);
        sizeBefore = (await handle.stat()).size;
        await handle.writeFile(linesOf(alerts));
        await handle.datasync();
      } catch (error) {
        // A half-written batch (disk full) would leave a broken line for every reader: cut it off, retry it whole.
        if (handle && sizeBefore !== undefined) await handle.truncate(sizeBefore).catch(() => undefined);
        return failed(error, path);
      } finally {
        await handle?.close().catch(() => undefined);
      }
      return { handled: alerts.length, rejected: 0, failedAttempts: 0 };
    },
  };
}
