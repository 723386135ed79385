import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Alert } from './alert.ts';
import { formatOutboxRecord, maxOutboxLineBytes, parseOutboxRecord } from './outbox-record.ts';

const alert: Alert = {
  id: '5f0c7a8e-1d2b-4c3a-9e8f-0a1b2c3d4e5f',
  dedupeKey: 'process-not-allowed|container:kv|/tmp/xmrig',
  rule: 'process-not-allowed',
  severity: 'critical',
  message: 'kv-store (container kv-1) ran /tmp/xmrig, which its profile does not allow; the process was killed.',
  entity: { id: 'c1', name: 'kv-1' },
  workload: 'container:kv',
  image: 'kv-store:1.0',
  seen: 'exec /tmp/xmrig by /bin/sh, pid 4242',
  allowed: '2 executables: /bin/busybox, /bin/sh',
  mode: 'prevent',
  phase: 'enforcing',
  action: { taken: 'killed', reason: 'prevent mode kills processes outside the profile' },
  firstAt: 1_700_000_000_000,
  lastAt: 1_700_000_000_500,
  count: 3,
};

const line = (value: unknown) => JSON.stringify(value);

describe('outbox records', () => {
  it('reads back what it wrote', () => {
    const text = formatOutboxRecord({ seq: 7, alert });
    assert.ok(text.endsWith('\n'));
    assert.equal(text.indexOf('\n'), text.length - 1, 'one line, whatever the alert says');
    assert.deepEqual(parseOutboxRecord(text.slice(0, -1)), { seq: 7, alert });
    assert.deepEqual(parseOutboxRecord(Buffer.from(text.slice(0, -1))), { seq: 7, alert });
  });

  it('keeps a newline inside an alert text on one line', () => {
    const text = formatOutboxRecord({ seq: 1, alert: { ...alert, seen: 'argv: xmrig\n--donate-level 0' } });
    assert.equal(text.split('\n').length, 2);
  });

  it('rejects a truncated line', () => {
    const text = formatOutboxRecord({ seq: 7, alert }).trimEnd();
    for (const cut of [1, 10, text.length / 2, text.length - 1]) assert.equal(parseOutboxRecord(text.slice(0, cut)), undefined);
  });

  it('rejects garbage, binary and values that are not records', () => {
    for (const bad of ['', 'garbage', '\u0000\u0001\u00ff', 'null', '[]', '42', '"seq"', line({ seq: 1 }), line({ alert }), line([1, alert])]) {
      assert.equal(parseOutboxRecord(bad), undefined, bad);
    }
    assert.equal(parseOutboxRecord(Buffer.from([0xff, 0xfe, 0x00, 0x7b])), undefined);
  });

  it('rejects fields of the wrong type or out of range', () => {
    const cases: unknown[] = [
      { seq: 0, alert },
      { seq: -1, alert },
      { seq: 1.5, alert },
      { seq: '1', alert },
      { seq: 2 ** 60, alert },
      { seq: 1, alert: { ...alert, count: 0 } },
      { seq: 1, alert: { ...alert, count: '3' } },
      { seq: 1, alert: { ...alert, rule: 'rm -rf' } },
      { seq: 1, alert: { ...alert, severity: 'apocalyptic' } },
      { seq: 1, alert: { ...alert, mode: 'ignore' } },
      { seq: 1, alert: { ...alert, action: { taken: 'exploded', reason: '' } } },
      { seq: 1, alert: { ...alert, entity: 'kv-1' } },
      { seq: 1, alert: { ...alert, id: '' } },
      { seq: 1, alert: { ...alert, firstAt: null } },
      { seq: 1, alert: { ...alert, message: undefined } },
    ];
    for (const value of cases) assert.equal(parseOutboxRecord(line(value)), undefined, line(value).slice(0, 120));
  });

  it('drops unknown fields rather than passing them on to outputs', () => {
    const parsed = parseOutboxRecord(line({ seq: 1, alert: { ...alert, injected: '<script>' }, extra: true, ['__proto__']: { polluted: true } }));
    assert.ok(parsed);
    assert.equal('injected' in parsed.alert, false);
    assert.equal('extra' in parsed, false);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('rejects a line longer than the line limit without parsing it', () => {
    const huge = line({ seq: 1, alert: { ...alert, seen: 'x'.repeat(maxOutboxLineBytes) } });
    assert.equal(parseOutboxRecord(huge), undefined);
  });
});
