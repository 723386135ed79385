import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { isNomineError } from '../../core/errors.ts';
import { bareProfile, processes } from '../../../test/fixtures/exports/example-profile.ts';
import { tetragonExporter } from './tetragon.ts';
import { validatePolicyText } from './validate-policy.ts';

function exported(profile = bareProfile({ allow: { processes: processes('/app/server', '/bin/sh') } })) {
  const result = tetragonExporter.export(profile, {});
  assert.deepEqual(validatePolicyText('tetragon', result.content), { valid: true, errors: [] });
  return { policy: parse(result.content), warnings: result.warnings, content: result.content };
}

describe('Tetragon exporter', () => {
  it('kills execve and execveat of anything outside the allow-list, in the selected pods only', () => {
    const { policy } = exported();
    assert.equal(policy.kind, 'TracingPolicyNamespaced');
    assert.equal(policy.metadata.namespace, 'shop');
    assert.deepEqual(policy.spec.podSelector, { matchLabels: { app: 'api' } });
    assert.deepEqual(
      policy.spec.kprobes.map((probe: { call: string; selectors: { matchArgs: { index: number; operator: string; values: string[] }[]; matchActions: unknown }[] }) => [
        probe.call,
        probe.selectors[0]!.matchArgs[0]!.index,
        probe.selectors[0]!.matchArgs[0]!.operator,
        probe.selectors[0]!.matchArgs[0]!.values,
        probe.selectors[0]!.matchActions,
      ]),
      [
        ['sys_execve', 0, 'NotEqual', ['/app/server', '/bin/sh'], [{ action: 'Sigkill' }]],
        ['sys_execveat', 1, 'NotEqual', ['/app/server', '/bin/sh'], [{ action: 'Sigkill' }]],
      ],
    );
  });

  it('writes no YAML aliases for the list both hooks share', () => {
    assert.doesNotMatch(exported().content, /[&*]a\d/);
  });

  it('is cluster-scoped only without a namespace, and says so', () => {
    const { policy, warnings } = exported(bareProfile({ kubernetes: undefined, allow: { processes: processes('/a') } }));
    assert.equal(policy.kind, 'TracingPolicy');
    assert.equal(policy.metadata.namespace, undefined);
    assert.ok(warnings.some((warning) => /cluster-wide/.test(warning)));
  });

  it('refuses to kill every exec: no selector, or no executable learned', () => {
    assert.throws(() => tetragonExporter.export(bareProfile({ selector: {}, allow: { processes: processes('/a') } }), {}), (error: unknown) => isNomineError(error) && /every pod of the cluster/.test(error.message));
    assert.throws(() => tetragonExporter.export(bareProfile(), {}), (error: unknown) => isNomineError(error) && /kill every exec/.test(error.message));
  });

  it('keeps paths with quotes or spaces as data and leaves out control characters', () => {
    const { policy, warnings } = exported(bareProfile({ allow: { processes: processes('/opt/my app/run', '/bin/"q"', '/bin/x\ny') } }));
    assert.deepEqual(policy.spec.kprobes[0].selectors[0].matchArgs[0].values, ['/bin/"q"', '/opt/my app/run']);
    assert.ok(warnings.some((warning) => /control characters/.test(warning)));
  });
});
