/**
 * Regression guard for false positives: every analyzer over the real programs of this system (busybox and /usr/bin,
 * up to a size bound to keep the suite quick) must end in a `clean` verdict.
 */
import assert from 'node:assert/strict';
import { lstatSync, readdirSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { loadSignatures } from '../../signatures/load-signatures.ts';
import type { Signatures } from '../../signatures/signatures.ts';
import { decideVerdict } from '../verdict.ts';
import { analyzeWithAll, fileFromDisk } from './file-fixture.ts';

const maxBytes = 8 * 1024 * 1024;
let signatures: Signatures;
before(async () => {
  signatures = await loadSignatures();
});

describe('benign system programs', () => {
  it('leaves /bin/busybox clean', async () => {
    const decision = decideVerdict(await analyzeWithAll(fileFromDisk('/bin/busybox'), signatures));
    assert.equal(decision.verdict, 'clean', decision.reasons.join('; '));
  });

  it('leaves every program in /usr/bin clean', async () => {
    const flagged: string[] = [];
    let checked = 0;
    for (const name of readdirSync('/usr/bin')) {
      const path = `/usr/bin/${name}`;
      const info = lstatSync(path);
      if (!info.isFile() || info.size > maxBytes) continue;
      const decision = decideVerdict(await analyzeWithAll(fileFromDisk(path), signatures));
      checked++;
      if (decision.verdict !== 'clean') flagged.push(`${path}: ${decision.verdict}: ${decision.reasons.join('; ')}`);
    }
    assert.ok(checked > 100, `checked ${checked} programs`);
    assert.deepEqual(flagged, []);
  });
});
