import { strict as assert } from 'node:assert';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import tar from 'tar-stream';
import { readLayerFileEvents, setuidFilesOf, type LayerFileEvents } from './docker-image-files.ts';

async function layerTar(entries: { name: string; mode?: number; type?: 'file' | 'directory' | 'symlink'; body?: string }[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const entry of entries) {
    if (entry.type === 'symlink') pack.entry({ name: entry.name, type: 'symlink', linkname: 'x', mode: entry.mode ?? 0o777 });
    else if (entry.type === 'directory') pack.entry({ name: entry.name, type: 'directory', mode: entry.mode ?? 0o755 });
    else pack.entry({ name: entry.name, mode: entry.mode ?? 0o644 }, entry.body ?? 'data');
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const limits = { maxLayerBytes: 1024 * 1024, maxLayerEntries: 100 };

describe('readLayerFileEvents', () => {
  it('reads setuid/setgid files, whiteouts and opaque directories from a gzip layer', async () => {
    const bytes = await layerTar([
      { name: './usr/', type: 'directory', mode: 0o4755 },
      { name: './usr/bin/su', mode: 0o4755 },
      { name: './usr/bin/wall', mode: 0o2755 },
      { name: './usr/bin/ls', mode: 0o755 },
      { name: 'usr/bin/.wh.old' },
      { name: 'opt/.wh..wh..opq' },
      { name: 'bin/link', type: 'symlink', mode: 0o4777 },
    ]);
    const events = await readLayerFileEvents(Readable.from(gzipSync(bytes)), 'test', limits);
    assert.deepEqual(events.whiteouts, ['usr/bin/old']);
    assert.deepEqual(events.opaque, ['opt']);
    assert.deepEqual(events.entries.filter((e) => e.special), [
      { path: 'usr/bin/su', special: 0o4755 },
      { path: 'usr/bin/wall', special: 0o2755 },
    ]);
  });

  it('is bounded by the entry limit', async () => {
    const bytes = await layerTar([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    await assert.rejects(readLayerFileEvents(Readable.from(bytes), 'test', { ...limits, maxLayerEntries: 2 }), /more than 2 entries/);
  });
});

describe('setuidFilesOf', () => {
  const layer = (events: Partial<LayerFileEvents>): LayerFileEvents => ({ whiteouts: [], opaque: [], entries: [], ...events });
  it('applies later layers: whiteouts, opaque directories and replaced files', () => {
    const files = setuidFilesOf([
      layer({ entries: [{ path: 'bin/su', special: 0o4755 }, { path: 'bin/mount', special: 0o4755 }, { path: 'opt/x/tool', special: 0o6755 }, { path: 'sbin/keep', special: 0o2755 }] }),
      layer({ whiteouts: ['bin/su'], opaque: ['opt'], entries: [{ path: 'bin/mount' }, { path: 'usr/bin/new', special: 0o4711 }] }),
    ]);
    assert.deepEqual(files, ['/sbin/keep (02755)', '/usr/bin/new (04711)']);
  });
  it('a whiteout of a directory removes what is under it', () => {
    assert.deepEqual(setuidFilesOf([layer({ entries: [{ path: 'opt/a/b', special: 0o4755 }] }), layer({ whiteouts: ['opt'] })]), []);
  });
});
