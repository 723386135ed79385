import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { executableKind } from './executable-kind.ts';
import { fileFromBytes, fileFromDisk, headOf } from './file-fixture.ts';

const kind = (path: string, text: string | Buffer) => executableKind(headOf(fileFromBytes(path, Buffer.isBuffer(text) ? text : Buffer.from(text))));

describe('executableKind', () => {
  it('recognises ELF, shebang scripts, WebAssembly and JavaScript', () => {
    assert.equal(executableKind(headOf(fileFromDisk('/usr/bin/ls'))), 'elf');
    assert.equal(kind('usr/local/bin/start', '#!/bin/sh\n./xmrig\n'), 'script');
    assert.equal(kind('srv/cn.wasm', Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])), 'wasm');
    assert.equal(kind('srv/www/miner.min.js', 'var a=1'), 'javascript');
    assert.equal(kind('srv/www/lib.mjs', 'export {}'), 'javascript');
  });

  it('leaves other files alone', () => {
    assert.equal(kind('etc/passwd', 'root:x:0:0'), undefined);
    assert.equal(kind('empty', ''), undefined);
    assert.equal(kind('short', '\x7fE'), undefined);
  });
});
