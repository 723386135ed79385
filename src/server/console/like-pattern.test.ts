import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { containsPattern } from './like-pattern.ts';

describe('substring patterns', () => {
  it('matches wildcards and the escape character literally', () => {
    assert.equal(containsPattern('50%_off!'), '%50!%!_off!!%');
  });

  it('lower-cases the text so matching ignores case', () => {
    assert.equal(containsPattern('XMRig'), '%xmrig%');
  });
});
