import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyOperator } from './apply-operator.ts';

test('modeAtMost passes a mode with no permission bits outside the limit', () => {
  assert.equal(applyOperator('modeAtMost', 0o640, '644', true), true);
  assert.equal(applyOperator('modeAtMost', 0o100644, '644', true), true); // the file-type bits of st_mode do not count
  assert.equal(applyOperator('modeAtMost', 0o400, '0o400', true), true);
});

test('modeAtMost fails a mode that grants more than the limit, even when numerically smaller', () => {
  assert.equal(applyOperator('modeAtMost', 0o666, '644', true), false);
  assert.equal(applyOperator('modeAtMost', 0o601, '644', true), false); // world-executable, though 0o601 < 0o644
  assert.equal(applyOperator('modeAtMost', 0o4755, '755', true), false); // setuid is outside 755
});
