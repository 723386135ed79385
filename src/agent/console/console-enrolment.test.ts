import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consoleEnrolmentFile, readConsoleEnrolment, writeConsoleEnrolment } from './console-enrolment.ts';

const home = mkdtempSync(join(tmpdir(), 'nomine-enrolment-'));
after(() => rmSync(home, { recursive: true, force: true }));

const enrolment = { server: 'https://console.example:7480', agentId: 'a1b2', credential: 'nmna_0123456789abcdef0123', nodeName: 'node-1', enrolledAt: '2026-01-01T00:00:00Z' };

describe('the enrolment file', () => {
  it('is written privately and read back', async () => {
    await writeConsoleEnrolment(home, enrolment);
    assert.equal(statSync(consoleEnrolmentFile(home)).mode & 0o777, 0o600);
    assert.deepEqual(await readConsoleEnrolment(home), enrolment);
  });

  it('is absent before enrolment', async () => {
    assert.equal(await readConsoleEnrolment(mkdtempSync(join(home, 'empty-'))), undefined);
  });

  it('refuses a damaged or tampered file, saying how to recover', async () => {
    const cases: Array<[string, RegExp]> = [
      ['{"server": ', /not JSON/],
      [JSON.stringify({ ...enrolment, server: 'file:///etc/passwd' }), /server/],
      [JSON.stringify({ ...enrolment, credential: 42 }), /credential/],
      [JSON.stringify([enrolment]), /document|expected object/],
    ];
    for (const [text, pattern] of cases) {
      writeFileSync(consoleEnrolmentFile(home), text);
      await assert.rejects(readConsoleEnrolment(home), (error: Error & { describe?: () => string }) => pattern.test(error.describe?.() ?? error.message) && /enrol|JSON/.test(error.message));
    }
  });
});
