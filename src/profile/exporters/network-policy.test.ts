import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { isNomineError } from '../../core/errors.ts';
import { bareProfile, egress } from '../../../test/fixtures/exports/example-profile.ts';
import { networkPolicyExporter } from './network-policy.ts';
import { validatePolicyText } from './validate-policy.ts';

type Rule = { to: { ipBlock?: { cidr: string }; namespaceSelector?: unknown }[]; ports: { port: number; protocol: string }[] };

function exported(profile = bareProfile(), options = {}) {
  const result = networkPolicyExporter.export(profile, options);
  assert.deepEqual(validatePolicyText('networkpolicy', result.content), { valid: true, errors: [] });
  return { policy: parse(result.content), warnings: result.warnings };
}

describe('NetworkPolicy exporter', () => {
  it('isolates both directions and always allows DNS to kube-dns over UDP and TCP', () => {
    const { policy } = exported();
    assert.deepEqual(policy.spec.policyTypes, ['Ingress', 'Egress']);
    assert.deepEqual(policy.spec.ingress, [], 'a workload that never listened accepts nothing');
    assert.deepEqual(policy.spec.egress, [
      {
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
        ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }],
      },
    ]);
  });

  it('allows egress to each learned destination as a /32, /128 or its block, with its ports', () => {
    const profile = bareProfile({ allow: { egress: egress(['10.0.0.5', 5432, 'tcp'], ['10.0.0.5', 5433, 'tcp'], ['10.0.3.0/24', 6379, 'tcp'], ['2001:db8::1', 443, 'tcp'], ['::ffff:10.0.0.9', 53, 'udp'], ['10.1.2.3/16', 80, 'tcp']) } });
    const rules = (exported(profile).policy.spec.egress as Rule[]).slice(1);
    assert.deepEqual(
      rules.map((rule) => [rule.to[0]!.ipBlock!.cidr, rule.ports.map((p) => `${p.protocol}/${p.port}`).join(',')]),
      [
        ['10.0.0.5/32', 'TCP/5432,TCP/5433'],
        ['10.0.0.9/32', 'UDP/53'],
        ['10.0.3.0/24', 'TCP/6379'],
        ['10.1.0.0/16', 'TCP/80'],
        ['2001:db8::1/128', 'TCP/443'],
      ],
    );
  });

  it('allows ingress on the learned listening ports', () => {
    const profile = bareProfile({ allow: { listen: [8080, 8443].map((port) => ({ port, protocol: 'tcp' as const, source: 'learned' as const, firstSeen: 0 })) } });
    assert.deepEqual(exported(profile).policy.spec.ingress, [{ ports: [{ port: 8080, protocol: 'TCP' }, { port: 8443, protocol: 'TCP' }] }]);
  });

  it('leaves out loopback and entries that are not an address and a port, and says so', () => {
    const profile = bareProfile({ allow: { egress: egress(['127.0.0.1', 6379, 'tcp'], ['::1', 80, 'tcp'], ['pool.example.com', 3333, 'tcp'], ['10.0.0.1', 0, 'tcp'], ['10.0.0.1', 70000, 'tcp'], ['10.0.0.1/33', 80, 'tcp']) } });
    const { policy, warnings } = exported(profile);
    assert.equal(policy.spec.egress.length, 1);
    assert.ok(warnings.some((warning) => /"pool.example.com":3333\/tcp/.test(warning)));
    assert.ok(warnings.some((warning) => /2 loopback destination/.test(warning)));
  });

  it('refuses an empty selector (it would select every pod of the namespace) unless one is given', () => {
    const unlabelled = bareProfile({ selector: {} });
    assert.throws(() => networkPolicyExporter.export(unlabelled, {}), (error: unknown) => isNomineError(error) && /every pod in the namespace/.test(error.message));
    assert.deepEqual(exported(unlabelled, { selector: { 'app.kubernetes.io/name': 'api' } }).policy.spec.podSelector, { matchLabels: { 'app.kubernetes.io/name': 'api' } });
  });

  it('refuses selector labels Kubernetes would reject instead of rewriting them', () => {
    const invalid: Record<string, string>[] = [{ 'bad key!': 'x' }, { app: 'has space' }, { app: 'x'.repeat(64) }, { '/app': 'x' }];
    for (const selector of invalid) {
      assert.throws(() => networkPolicyExporter.export(bareProfile({ selector }), {}), (error: unknown) => isNomineError(error) && /selector labels that Kubernetes would reject/.test(error.message));
    }
  });

  it('uses the namespace option when the profile has none, and warns when there is neither', () => {
    const noNamespace = bareProfile({ kubernetes: undefined });
    assert.equal(exported(noNamespace, { namespace: 'payments' }).policy.metadata.namespace, 'payments');
    const { policy, warnings } = exported(noNamespace);
    assert.equal(policy.metadata.namespace, undefined);
    assert.ok(warnings.some((warning) => /names no namespace/.test(warning)));
    assert.throws(() => networkPolicyExporter.export(noNamespace, { namespace: 'Not_Valid' }), (error: unknown) => isNomineError(error) && /not a valid Kubernetes namespace/.test(error.message));
  });
});
