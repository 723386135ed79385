import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FieldError, integerField, parseRfc3339, printable, stringField } from './json-fields.ts';

describe('parseRfc3339', () => {
  it('keeps the milliseconds of a nanosecond timestamp', () => {
    assert.equal(parseRfc3339('2026-03-14T09:26:53.589793238Z'), Date.UTC(2026, 2, 14, 9, 26, 53, 589));
    assert.equal(parseRfc3339('2026-03-14T09:26:53Z'), Date.UTC(2026, 2, 14, 9, 26, 53));
    assert.equal(parseRfc3339('2026-03-14T09:26:53.5Z'), Date.UTC(2026, 2, 14, 9, 26, 53, 500));
  });

  it('applies a zone offset', () => {
    assert.equal(parseRfc3339('2026-03-14T11:26:53.000+02:00'), Date.UTC(2026, 2, 14, 9, 26, 53));
    assert.equal(parseRfc3339('2026-03-14T04:26:53-05:00'), Date.UTC(2026, 2, 14, 9, 26, 53));
  });

  it('refuses what is not an RFC 3339 timestamp', () => {
    for (const text of ['', 'yesterday', '2026-03-14', '2026-03-14T09:26:53', '2026-13-14T09:26:53Z', '2026-03-14T25:00:00Z', '2026-03-14T09:26:53.1234567890Z', '2026-03-14T09:26:53+99:00', '1710408413']) {
      assert.equal(parseRfc3339(text), undefined, text);
    }
  });
});

describe('field readers', () => {
  it('read only own keys', () => {
    const record = JSON.parse('{"__proto__":{"a":"x"},"b":"y"}') as Record<string, unknown>;
    assert.equal(stringField(record, 'a'), undefined);
    assert.equal(stringField(record, 'b'), 'y');
    assert.equal(stringField({}, 'toString'), undefined);
    assert.equal(integerField({}, 'constructor', 0, 10), undefined);
  });

  it('throw a FieldError naming the field for a wrong type or range', () => {
    assert.throws(() => integerField({ port: '80' }, 'port', 0, 65535, 'fd.rport'), (error: unknown) => error instanceof FieldError && /fd\.rport is the string "80"/.test(error.message));
    assert.throws(() => integerField({ port: 1e6 }, 'port', 0, 65535), /port 1000000 is outside 0\.\.65535/);
    assert.throws(() => integerField({ port: Number.NaN }, 'port', 0, 65535), /not an integer/);
    assert.throws(() => stringField({ name: ['a'] }, 'name'), /name is an array/);
  });

  it('quote outside text short', () => {
    assert.equal(printable('a"b'), '"a\\"b"');
    assert.ok(printable('x'.repeat(1000)).length < 80);
  });
});
