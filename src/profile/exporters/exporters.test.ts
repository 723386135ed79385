import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';
import { isNomineError } from '../../core/errors.ts';
import { learnedExampleProfile } from '../../../test/fixtures/exports/example-profile.ts';
import { exporterFor, exporters, policyFormats } from './exporters.ts';
import { validatePolicyText } from './validate-policy.ts';

const goldenDirectory = new URL('../../../test/fixtures/exports/', import.meta.url);
/** `UPDATE_GOLDEN=1 node --import tsx --test …` rewrites the golden files after a deliberate change. */
const updateGolden = process.env.UPDATE_GOLDEN === '1';

describe('policy exporters on the learned example profile', () => {
  const profile = learnedExampleProfile();

  for (const format of policyFormats) {
    const exporter = exporters[format];
    it(`writes the ${format} golden file`, () => {
      const { content } = exporter.export(profile, {});
      const golden = new URL(exporter.fileName(profile), goldenDirectory);
      if (updateGolden) writeFileSync(golden, content);
      assert.equal(content, readFileSync(golden, 'utf8'));
    });

    it(`writes ${format} that its published schema accepts`, () => {
      const result = validatePolicyText(format, exporter.export(profile, {}).content);
      assert.deepEqual(result, { valid: true, errors: [] });
    });

    it(`exports ${format} the same way twice (no timestamps, stable order)`, () => {
      const shuffled = { ...profile, allow: { ...profile.allow, processes: [...profile.allow.processes].reverse(), egress: [...profile.allow.egress].reverse(), fileWrites: [...profile.allow.fileWrites].reverse() } };
      assert.equal(exporter.export(shuffled, {}).content, exporter.export(profile, {}).content);
    });

    it(`refuses to export ${format} from a profile still learning, and says why`, () => {
      const learning = { ...profile, phase: 'learning' as const };
      assert.throws(
        () => exporter.export(learning, {}),
        (error: unknown) => isNomineError(error) && error.code === 'invalid-input' && /still learning/.test(error.message) && /block behaviour not seen yet/.test(error.message),
      );
      const forced = exporter.export(learning, { force: true });
      assert.ok(forced.warnings.some((warning) => /still learning/.test(warning)));
    });

    it(`names the ${format} file with a valid Kubernetes name`, () => {
      assert.match(exporter.fileName(profile), /^nomine-web-[0-9a-f]{12}\.[a-z.-]+$/);
    });
  }

  it('puts the learned allowances where each format enforces them', () => {
    const seccomp = JSON.parse(exporters.seccomp.export(profile, {}).content) as { syscalls: { names: string[] }[] };
    assert.ok(seccomp.syscalls.flatMap((rule) => rule.names).includes('accept4'));
    const networkPolicy = parse(exporters.networkpolicy.export(profile, {}).content);
    assert.deepEqual(networkPolicy.spec.podSelector, { matchLabels: { app: 'web' } });
    assert.equal(networkPolicy.metadata.namespace, 'shop');
    const kubeArmor = parse(exporters.kubearmor.export(profile, {}).content);
    assert.deepEqual(
      kubeArmor.spec.process.matchPaths.map((entry: { path: string }) => entry.path),
      ['/bin/sh', '/usr/local/bin/healthcheck', '/usr/sbin/nginx'],
    );
    const tetragon = parse(exporters.tetragon.export(profile, {}).content);
    assert.equal(tetragon.kind, 'TracingPolicyNamespaced');
    assert.deepEqual(tetragon.spec.kprobes[0].selectors[0].matchArgs[0].values, ['/bin/sh', '/usr/local/bin/healthcheck', '/usr/sbin/nginx']);
    assert.deepEqual(tetragon.spec.kprobes[0].selectors[0].matchActions, [{ action: 'Sigkill' }]);
    const falco = parse(exporters.falco.export(profile, {}).content) as Record<string, unknown>[];
    assert.deepEqual(falco.filter((item) => 'rule' in item).length, 3);
  });

  it('shows the current output of every format in docs/policies.md', () => {
    const docs = readFileSync(new URL('../../../docs/policies.md', import.meta.url), 'utf8');
    for (const format of policyFormats) {
      assert.ok(docs.includes(exporters[format].export(profile, {}).content), `docs/policies.md shows the ${format} export as it is now`);
    }
  });

  it('refuses an unknown format, naming the known ones', () => {
    assert.throws(() => exporterFor('iptables'), (error: unknown) => isNomineError(error) && error.code === 'invalid-input' && /seccomp, networkpolicy, apparmor, kubearmor, tetragon, falco/.test(error.message));
    assert.throws(() => exporterFor('__proto__'), (error: unknown) => isNomineError(error) && error.code === 'invalid-input');
    assert.equal(exporterFor('falco'), exporters.falco);
  });

  it('has one exporter per format, each with its own id', () => {
    for (const format of policyFormats) assert.equal(exporters[format].id, format);
    assert.deepEqual([...policyFormats].sort(), ['apparmor', 'falco', 'kubearmor', 'networkpolicy', 'seccomp', 'tetragon']);
  });
});
