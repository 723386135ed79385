import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isNomineError } from '../core/errors.ts';
import { loadChecks, parseCheck } from './load-checks.ts';

const valid = `
id: test.container.thing
title: A thing
severity: low
target: docker.container
rationale: because
remediation: fix it
assert: { field: HostConfig.Privileged, op: falsy }
examples:
  pass: [{ HostConfig: { Privileged: false } }]
  fail: [{ HostConfig: { Privileged: true } }]
`;

function rejects(text: string, pattern: RegExp, file = 'checks/bad.yaml'): void {
  assert.throws(
    () => parseCheck(text, file),
    (error: unknown) => {
      assert.ok(isNomineError(error), String(error));
      assert.equal(error.part, file, 'the error names the file');
      assert.match(error.message, pattern);
      return true;
    },
  );
}

describe('check schema', () => {
  it('accepts a valid check', () => {
    assert.equal(parseCheck(valid, 'x.yaml').id, 'test.container.thing');
  });

  it('rejects an unknown operator, naming the file and the operator', () => {
    rejects(valid.replace('op: falsy', 'op: shellExec'), /unknown operator "shellExec"/);
  });

  it('rejects a check with a missing field', () => {
    rejects(valid.replace('remediation: fix it\n', ''), /remediation/);
    rejects(valid.replace(/examples:[\s\S]*$/, ''), /examples/);
  });

  it('rejects an operator that needs a value without one, a bad regex, a bad path, an unknown predicate', () => {
    rejects(valid.replace('op: falsy', 'op: equals'), /needs a value/);
    rejects(valid.replace('op: falsy', "op: matches, value: '('"), /regular expression/);
    rejects(valid.replace('field: HostConfig.Privileged', 'field: "a[b"'), /invalid field path/);
    rejects(valid.replace('{ field: HostConfig.Privileged, op: falsy }', '{ predicate: rm-rf }'), /unknown predicate "rm-rf"/);
  });

  it('rejects unknown keys, an unknown target, an unknown severity and a shell command', () => {
    rejects(`${valid}shell: "cat /etc/shadow"\n`, /shell/);
    rejects(valid.replace('target: docker.container', 'target: windows.registry'), /target/);
    rejects(valid.replace('severity: low', 'severity: apocalyptic'), /severity/);
    rejects(valid.replace('{ field: HostConfig.Privileged, op: falsy }', '{ field: HostConfig.Privileged, op: falsy, audit: "ps -ef" }'), /.+/);
  });

  it('rejects invalid YAML, a list, a non-mapping assert, and an alias bomb', () => {
    rejects('id: [unclosed', /not valid YAML/);
    rejects('- a\n- b\n', /one mapping/);
    rejects(valid.replace('{ field: HostConfig.Privileged, op: falsy }', '"just a string"'), /mapping/);
    const bomb = `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n`;
    rejects(bomb, /alias|YAML|invalid/i);
  });
});

describe('loadChecks', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('lets a user directory shadow a built-in check by id and add new ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nomine-checks-'));
    dirs.push(dir);
    await writeFile(join(dir, 'mine.yaml'), valid);
    await writeFile(join(dir, 'privileged.yaml'), valid.replace('test.container.thing', 'docker.container.privileged').replace('title: A thing', 'title: Shadowed'));
    const checks = await loadChecks([dir]);
    assert.equal(checks.find((c) => c.id === 'docker.container.privileged')?.title, 'Shadowed');
    assert.ok(checks.some((c) => c.id === 'test.container.thing'));
  });

  it('rejects two files with the same id in one directory, naming the second', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nomine-checks-'));
    dirs.push(dir);
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'a.yaml'), valid);
    await writeFile(join(dir, 'sub', 'b.yaml'), valid);
    await assert.rejects(loadChecks([dir]), (error: unknown) => isNomineError(error) && error.code === 'conflict' && /b\.yaml$/.test(error.part ?? ''));
  });

  it('rejects a broken file in a user directory, naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nomine-checks-'));
    dirs.push(dir);
    await writeFile(join(dir, 'broken.yaml'), valid.replace('op: falsy', 'op: eval'));
    await assert.rejects(loadChecks([dir]), (error: unknown) => isNomineError(error) && (error.part ?? '').endsWith('broken.yaml') && /unknown operator/.test(error.message));
  });
});
