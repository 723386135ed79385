import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, symlink, link, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import tar from 'tar-stream';
import { NomineError } from '../../core/errors.ts';
import { maxExtendedHeaderBytes, maxExtendedHeadersInRow, seekTarEntries, type LocatedEntry, type SeekableTar } from './tar-seek.ts';
import { walkTar, type ArchiveEntry, type WalkVerdict } from './tar-walk.ts';

const run = promisify(execFile);
const part = 'archive test.tar';

interface Packed {
  name: string;
  content?: Buffer;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  linkname?: string;
  pax?: Record<string, string>;
}

async function pack(entries: Packed[]): Promise<Buffer> {
  const packer = tar.pack();
  for (const entry of entries) {
    const header = { name: entry.name, type: entry.type ?? 'file', linkname: entry.linkname, pax: entry.pax, mtime: new Date(0), mode: 0o644 };
    if (entry.content) packer.entry({ ...header, size: entry.content.length }, entry.content);
    else packer.entry(header);
  }
  packer.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of Readable.from(packer, { objectMode: false })) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A hand-made ustar header, for the shapes no honest writer produces; `size` is written raw when it is a Buffer. */
function header(fields: { name: string; size?: number | Buffer; typeflag?: string; linkname?: string; magic?: boolean }): Buffer {
  const block = Buffer.alloc(512);
  block.write(fields.name, 0, 100, 'utf8');
  block.write('0000644\0', 100);
  block.write('0000000\0', 108);
  block.write('0000000\0', 116);
  if (Buffer.isBuffer(fields.size)) fields.size.copy(block, 124);
  else block.write(`${(fields.size ?? 0).toString(8).padStart(11, '0')}\0`, 124);
  block.write('00000000000\0', 136);
  block.write(fields.typeflag ?? '0', 156);
  if (fields.linkname) block.write(fields.linkname, 157, 100, 'utf8');
  if (fields.magic !== false) block.write('ustar\x0000', 257, 'latin1');
  return withChecksum(block);
}

function withChecksum(block: Buffer): Buffer {
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}

function padded(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = body.length + 1;
  while (`${length}${body}`.length !== length) length += 1;
  return `${length}${body}`;
}

const endMarker = Buffer.alloc(1024);

/** An archive in memory that counts the bytes the walk reads. */
function inMemory(bytes: Buffer): SeekableTar & { bytesRead: number } {
  const tarFile = {
    size: bytes.length,
    bytesRead: 0,
    async readAt(offset: number, length: number) {
      const slice = bytes.subarray(offset, offset + length);
      tarFile.bytesRead += slice.length;
      return Buffer.from(slice);
    },
  };
  return tarFile;
}

async function list(bytes: Buffer): Promise<LocatedEntry[]> {
  const entries: LocatedEntry[] = [];
  for await (const located of seekTarEntries(inMemory(bytes), part)) entries.push(located);
  return entries;
}

async function rejects(bytes: Buffer, code: NomineError['code'], message: RegExp): Promise<void> {
  try {
    await list(bytes);
  } catch (error) {
    assert.ok(error instanceof NomineError, `expected a NomineError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    assert.equal(error.part, part, 'the error names the archive');
    return;
  }
  assert.fail('expected the walk to fail');
}

/** What tar-stream's extractor makes of the same bytes: entries and their contents. */
async function extractWithTarStream(bytes: Buffer): Promise<{ entry: ArchiveEntry; content: Buffer }[]> {
  const seen: { entry: ArchiveEntry; content: Buffer }[] = [];
  await walkTar(Readable.from([bytes]), part, async (entry, stream): Promise<WalkVerdict> => {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    seen.push({ entry, content: Buffer.concat(chunks) });
    return 'continue';
  });
  return seen;
}

describe('seeking tar walk', { timeout: 60_000 }, () => {
  it('lists entries with the offset of their data, applying PAX names, links and directories', async () => {
    const longName = `deep/${'d'.repeat(120)}/${'f'.repeat(120)}`;
    const bytes = await pack([
      { name: 'manifest.json', content: Buffer.from('[1]') },
      { name: 'blobs', type: 'directory' },
      { name: longName, content: Buffer.from('long') },
      { name: 'blobs/link', type: 'symlink', linkname: '../manifest.json' },
      { name: './empty', content: Buffer.alloc(0) },
    ]);
    const entries = await list(bytes);
    assert.deepEqual(
      entries.map(({ entry }) => entry),
      [
        { name: 'manifest.json', type: 'file', size: 3 },
        { name: 'blobs', type: 'directory', size: 0 },
        { name: longName, type: 'file', size: 4 },
        { name: 'blobs/link', type: 'symlink', size: 0, linkTarget: 'manifest.json' },
        { name: 'empty', type: 'file', size: 0 },
      ],
    );
    const at = (name: string) => entries.find(({ entry }) => entry.name === name)!;
    assert.equal(bytes.toString('utf8', at('manifest.json').dataOffset, at('manifest.json').dataOffset + 3), '[1]');
    assert.equal(bytes.toString('utf8', at(longName).dataOffset, at(longName).dataOffset + 4), 'long');
  });

  it('reads the headers of an archive, not the data of its entries', async () => {
    const big = Buffer.alloc(8 * 1024 * 1024, 0x61);
    const tarFile = inMemory(await pack([{ name: 'a/layer.tar', content: big }, { name: 'b/layer.tar', content: big }, { name: 'manifest.json', content: Buffer.from('[]') }]));
    const names: string[] = [];
    for await (const { entry } of seekTarEntries(tarFile, part)) names.push(entry.name);
    assert.deepEqual(names, ['a/layer.tar', 'b/layer.tar', 'manifest.json']);
    assert.ok(tarFile.bytesRead < 64 * 1024, `read ${tarFile.bytesRead} bytes of a ${tarFile.size}-byte archive`);
  });

  it('accepts an archive without an end-of-archive marker, an empty one, and tar padding after the marker', async () => {
    const bytes = await pack([{ name: 'a', content: Buffer.from('x') }]);
    const withoutMarker = bytes.subarray(0, 1024);
    assert.deepEqual((await list(withoutMarker)).map(({ entry }) => entry.name), ['a']);
    assert.deepEqual(await list(Buffer.alloc(0)), []);
    assert.deepEqual((await list(Buffer.concat([withoutMarker, Buffer.alloc(10240 - 1024)]))).map(({ entry }) => entry.name), ['a']);
  });

  describe('agrees with tar-stream on archives GNU tar writes', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'nomine-tar-seek-'));
      const deep = join(dir, 'root', 'a'.repeat(90), 'b'.repeat(90));
      await mkdir(deep, { recursive: true });
      await writeFile(join(deep, 'c'.repeat(90)), 'deep file');
      await writeFile(join(dir, 'root', 'plain'), Buffer.alloc(1500, 0x62));
      await writeFile(join(dir, 'root', 'empty'), '');
      await symlink('plain', join(dir, 'root', 'to-plain'));
      await link(join(dir, 'root', 'plain'), join(dir, 'root', 'hard-plain'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    for (const format of ['gnu', 'pax', 'oldgnu']) {
      it(`reads --format=${format} with long names and links like tar-stream does`, async () => {
        const archive = join(dir, `${format}.tar`);
        await run('tar', [`--format=${format}`, '-C', join(dir, 'root'), '--sort=name', '-cf', archive, '.']);
        const bytes = await readFile(archive);
        const seeked = await list(bytes);
        const streamed = await extractWithTarStream(bytes);
        assert.deepEqual(seeked.map(({ entry }) => entry), streamed.map(({ entry }) => entry));
        for (const [i, { entry, dataOffset }] of seeked.entries()) {
          if (entry.type !== 'file') continue;
          assert.ok(bytes.subarray(dataOffset, dataOffset + entry.size).equals(streamed[i]!.content), `content of ${entry.name}`);
        }
        assert.ok(seeked.some(({ entry }) => entry.name.endsWith('c'.repeat(90))), 'the long name is read');
      });
    }
  });

  describe('hostile input: each a clear error, no crash, no hang', () => {
    it('refuses an archive that ends inside a header', async () => {
      const bytes = await pack([{ name: 'a', content: Buffer.from('x') }, { name: 'b', content: Buffer.from('y') }]);
      await rejects(bytes.subarray(0, 1024 + 300), 'invalid-input', /not a readable tar archive: archive ends inside the tar header at byte 1024 \(300 of 512 bytes, after entry a\)/);
    });

    it('refuses an archive that ends inside the data of an entry', async () => {
      const bytes = await pack([{ name: 'layer.tar', content: Buffer.alloc(5000, 1) }]);
      await rejects(bytes.subarray(0, 512 + 2000), 'invalid-input', /archive entry layer.tar \(header at byte 0\) declares 5000 bytes of data, past the end of the 2512-byte archive/);
    });

    it('refuses a header whose checksum does not match, naming the entry before it', async () => {
      const bytes = await pack([{ name: 'a', content: Buffer.from('x') }, { name: 'b', content: Buffer.from('y') }]);
      bytes[1024 + 3] = 0x41; // inside the second header's name
      await rejects(bytes, 'invalid-input', /the tar header at byte 1024 \(after entry a\) is invalid: Invalid tar header/);
      await rejects(Buffer.alloc(4096, 0x41), 'invalid-input', /the tar header at byte 0 \(at the start of the archive\) is invalid/);
    });

    it('refuses a header of an unknown (pre-POSIX) format', async () => {
      await rejects(Buffer.concat([header({ name: 'a', magic: false }), endMarker]), 'invalid-input', /unknown format/);
    });

    it('refuses a size field pointing past the end of the archive', async () => {
      const bytes = Buffer.concat([header({ name: 'layer.tar', size: 0o77777777777 }), Buffer.alloc(512), endMarker]);
      await rejects(bytes, 'invalid-input', /layer.tar \(header at byte 0\) declares 8589934591 bytes of data, past the end of the 2048-byte archive/);
      // base-256 sizes: 2^80 is no safe integer, a negative one would walk backwards.
      const huge = Buffer.alloc(12);
      huge[0] = 0x80;
      huge[1] = 0x01;
      await rejects(Buffer.concat([header({ name: 'huge', size: huge }), endMarker]), 'invalid-input', /huge declares an impossible size/);
      const minusOne = Buffer.alloc(12, 0xff);
      minusOne[11] = 0xfe;
      await rejects(Buffer.concat([header({ name: 'negative', size: minusOne }), endMarker]), 'invalid-input', /negative declares an impossible size/);
    });

    it('refuses a PAX header with a huge length, and a PAX record longer than its header', async () => {
      await rejects(
        Buffer.concat([header({ name: 'PaxHeader/a', typeflag: 'x', size: 2 ** 33 }), Buffer.alloc(512), endMarker]),
        'invalid-input',
        new RegExp(`PAX header at byte 0 \\(at the start of the archive\\) declares 8589934592 bytes, more than the ${maxExtendedHeaderBytes}-byte limit`),
      );
      const lying = Buffer.from('99999999 path=evil\n');
      await rejects(
        Buffer.concat([header({ name: 'PaxHeader/a', typeflag: 'x', size: lying.length }), padded(lying), header({ name: 'a', size: 0 }), endMarker]),
        'invalid-input',
        /PAX header at byte 0 .* is invalid: malformed PAX record at byte 0 of 19 \(claims 99999999 bytes\)/,
      );
      const unframed = Buffer.from(`${paxRecord('path', 'ok')}garbage`);
      await rejects(
        Buffer.concat([header({ name: 'PaxHeader/a', typeflag: 'x', size: unframed.length }), padded(unframed), header({ name: 'a', size: 0 }), endMarker]),
        'invalid-input',
        /malformed PAX record at byte 11 of 18/,
      );
    });

    it('applies a well-formed PAX path and size, and checks the size it sets', async () => {
      const records = Buffer.from(paxRecord('path', 'blobs/sha256/abc') + paxRecord('size', '3'));
      const ok = Buffer.concat([header({ name: 'PaxHeader/x', typeflag: 'x', size: records.length }), padded(records), header({ name: 'short', size: 0 }), padded(Buffer.from('abc')), endMarker]);
      assert.deepEqual((await list(ok)).map(({ entry, dataOffset }) => [entry.name, entry.size, dataOffset]), [['blobs/sha256/abc', 3, 1536]]);
      const lie = Buffer.from(paxRecord('size', '999999999'));
      await rejects(
        Buffer.concat([header({ name: 'PaxHeader/x', typeflag: 'x', size: lie.length }), padded(lie), header({ name: 'a', size: 0 }), endMarker]),
        'invalid-input',
        /archive entry a .* declares 999999999 bytes of data, past the end/,
      );
      const notANumber = Buffer.from(paxRecord('size', '12abc'));
      await rejects(
        Buffer.concat([header({ name: 'PaxHeader/x', typeflag: 'x', size: notANumber.length }), padded(notANumber), header({ name: 'a', size: 0 }), endMarker]),
        'invalid-input',
        /a declares an impossible size/,
      );
    });

    it('refuses a loop of GNU long-name headers and a long name with no entry after it', async () => {
      const name = Buffer.from('x'.repeat(200));
      const longName = Buffer.concat([header({ name: '././@LongLink', typeflag: 'L', size: name.length }), padded(name)]);
      const loop = Buffer.concat([...Array.from({ length: maxExtendedHeadersInRow + 5 }, () => longName), header({ name: 'a', size: 0 }), endMarker]);
      await rejects(loop, 'invalid-input', new RegExp(`more than ${maxExtendedHeadersInRow} extended headers in a row from byte 0`));
      const twice = Buffer.concat([longName, longName, header({ name: 'a', size: 0 }), endMarker]);
      assert.deepEqual((await list(twice)).map(({ entry }) => entry.name), ['x'.repeat(200)]);
      await rejects(Buffer.concat([longName, endMarker]), 'invalid-input', /extended header at byte 0 is followed by the end-of-archive marker, not by an entry/);
      await rejects(longName, 'invalid-input', /archive ends after the extended header at byte 0, with no entry for it to describe/);
    });

    it('refuses zero blocks in the middle of an archive', async () => {
      const a = Buffer.concat([header({ name: 'a', size: 1 }), padded(Buffer.from('x'))]);
      const b = Buffer.concat([header({ name: 'manifest.json', size: 2 }), padded(Buffer.from('[]'))]);
      await rejects(Buffer.concat([a, Buffer.alloc(512), b, endMarker]), 'invalid-input', /end-of-archive marker \(a zero block\) at byte 1024 is followed by more data at byte 1536/);
      await rejects(Buffer.concat([a, endMarker, b, endMarker]), 'invalid-input', /at byte 1024 is followed by more data at byte 2048/);
      await rejects(Buffer.concat([a, endMarker, Buffer.alloc(2 * 1024 * 1024)]), 'invalid-input', /bytes follow the end-of-archive marker at byte 1024/);
    });

    it('refuses entries named ../x or linking out of the archive', async () => {
      await rejects(Buffer.concat([header({ name: '../x', size: 0 }), endMarker]), 'invalid-input', /archive entry "..\/x" climbs out of the archive with ".."/);
      await rejects(Buffer.concat([header({ name: 'a/../../x', size: 0 }), endMarker]), 'invalid-input', /climbs out of the archive/);
      await rejects(Buffer.concat([header({ name: 'l', typeflag: '2', linkname: '../../etc/passwd' }), endMarker]), 'invalid-input', /archive entry l links outside the archive/);
    });

    it('refuses a link or directory that claims data, and an old GNU sparse entry', async () => {
      await rejects(Buffer.concat([header({ name: 'l', typeflag: '2', linkname: 'a', size: 512 }), Buffer.alloc(512), endMarker]), 'invalid-input', /archive entry l is a symlink but declares 512 bytes of data/);
      await rejects(Buffer.concat([header({ name: 'd/', typeflag: '5', size: 1 }), Buffer.alloc(512), endMarker]), 'invalid-input', /archive entry d is a directory but declares 1 bytes of data/);
      await rejects(Buffer.concat([header({ name: 's', typeflag: 'S', size: 0 }), endMarker]), 'unsupported', /archive entry s is an old GNU sparse file/);
    });
  });
});
