import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { Signatures } from '../signatures/signatures.ts';
import { inlineAnalysis } from './file-analysis.ts';
import type { FileAnalyzer } from './file-analyzer.ts';

const signatures = { version: 'test' } as Signatures;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const fileAt = (path: string, bytes: Buffer, truncated = false) => ({ entry: { path, type: 'file' as const, size: bytes.length, mode: 0o755 }, bytes, truncated, layer: 'sha256:layer' });

test('analyzes the same content once, under any path, and computes the digest it was not given', async () => {
  const analyzed: string[] = [];
  const counting: FileAnalyzer = { id: 'count', version: 1, wants: () => true, analyze: (file) => (analyzed.push(file.entry.path), [{ analyzer: 'count', rule: 'count.seen', strength: 'weak', summary: file.sha256 }]) };
  const other: FileAnalyzer = { ...counting, id: 'other' };
  const analysis = inlineAnalysis([counting, other], signatures);
  const bytes = Buffer.from('#!/bin/sh\necho same\n');

  const first = await analysis.analyze(fileAt('usr/bin/a', bytes), ['count']);
  const again = await analysis.analyze({ ...fileAt('opt/b', Buffer.from(bytes)), sha256: sha256(bytes) }, ['count']);
  assert.equal(first.sha256, sha256(bytes));
  assert.deepEqual(again, first);
  assert.deepEqual(analyzed, ['usr/bin/a'], 'the second copy was answered from the memo');

  // Other analyzers, or only a prefix of a larger file with the same digest, are other questions.
  await analysis.analyze(fileAt('opt/c', bytes), ['other']);
  await analysis.analyze({ ...fileAt('opt/d', bytes, true), sha256: sha256(bytes) }, ['count']);
  assert.deepEqual(analyzed, ['usr/bin/a', 'opt/c', 'opt/d']);
});
