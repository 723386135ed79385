import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRootUpperDir } from './executable-origin.ts';

describe('parseRootUpperDir', () => {
  it('finds the upper directory of an overlay root in mountinfo', () => {
    const text = [
      '1620 1495 0:160 / / rw,relatime master:621 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/ABC:/var/lib/docker/overlay2/l/DEF,upperdir=/var/lib/docker/overlay2/0f3e/diff,workdir=/var/lib/docker/overlay2/0f3e/work',
      '1621 1620 0:163 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw',
    ].join('\n');
    assert.equal(parseRootUpperDir(text), '/var/lib/docker/overlay2/0f3e/diff');
  });

  it('unescapes octal escapes and ignores roots that are not overlays or garbage', () => {
    assert.equal(parseRootUpperDir('1 0 0:1 / / rw - overlay overlay rw,upperdir=/x\\040y/diff'), '/x y/diff');
    assert.equal(parseRootUpperDir('25 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw'), undefined);
    assert.equal(parseRootUpperDir('garbage\n\n- - -\n'), undefined);
  });
});
