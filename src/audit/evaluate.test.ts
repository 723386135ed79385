import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { Assertion, CheckDefinition, Facts } from './check-definition.ts';
import { evaluate } from './evaluate.ts';

function check(assertion: Assertion, extra: Partial<CheckDefinition> = {}): CheckDefinition {
  return {
    id: 'test.check',
    title: 'test',
    severity: 'high',
    target: 'docker.container',
    rationale: 'r',
    remediation: 'm',
    assert: assertion,
    examples: { pass: [{}], fail: [{}] },
    ...extra,
  };
}

describe('evaluate', () => {
  it('names the concrete element path of a wildcard failure', () => {
    const result = evaluate(check({ field: 'containers[*].securityContext.privileged', op: 'notEquals', value: true }), {
      containers: [{ name: 'ok' }, { name: 'bad', securityContext: { privileged: true } }],
    });
    assert.equal(result.status, 'fail');
    assert.deepEqual(result.evidence.map((e) => e.field), ['containers[1].securityContext.privileged']);
  });

  it('labels elements of `every` with their name', () => {
    const result = evaluate(check({ every: 'containers[*]', assert: { field: 'resources.limits.cpu', op: 'notEmpty' } }), { containers: [{ name: 'web' }] });
    assert.equal(result.status, 'fail');
    assert.match(result.evidence[0]?.summary ?? '', /containers\[0\] \(web\): containers\[0\]\.resources\.limits\.cpu is absent/);
  });

  it('uses the default of an absent field and says so', () => {
    const result = evaluate(check({ field: 'settings.icc', op: 'equals', value: false, default: true }), { settings: {} });
    assert.equal(result.status, 'fail');
    assert.match(result.evidence[0]?.summary ?? '', /absent \(default true\)/);
  });

  it('resolves $. paths from the root inside every', () => {
    const assertion: Assertion = {
      every: 'containers[*]',
      assert: { any: [{ field: 'securityContext.runAsNonRoot', op: 'equals', value: true }, { field: '$.pod.spec.securityContext.runAsNonRoot', op: 'equals', value: true }] },
    };
    assert.equal(evaluate(check(assertion), { pod: { spec: { securityContext: { runAsNonRoot: true } } }, containers: [{ name: 'a' }] }).status, 'pass');
  });

  it('quoted keys reach annotation names with dots and slashes', () => {
    const facts = { metadata: { annotations: { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' } } };
    const result = evaluate(check({ field: 'metadata.annotations["container.apparmor.security.beta.kubernetes.io/app"]', op: 'notEquals', value: 'unconfined' }), facts);
    assert.equal(result.status, 'fail');
  });

  it('reports warn for an advisory check and not-applicable when `applies` does not hold', () => {
    assert.equal(evaluate(check({ field: 'x', op: 'exists' }, { advisory: true }), {}).status, 'warn');
    assert.equal(evaluate(check({ field: 'x', op: 'exists' }, { applies: { field: 'y', op: 'exists' } }), {}).status, 'not-applicable');
  });

  it('never throws: hostile facts and broken hand-built checks become results', () => {
    const cyclic: Facts = { a: 1 };
    cyclic.self = cyclic;
    const hostile: unknown[] = [null, 42, 'text', [], cyclic, { HostConfig: 'not a map' }, { Mounts: [null, 7, 'x', { Source: 5 }] }];
    const checks = [
      check({ field: 'HostConfig.Privileged', op: 'falsy' }),
      check({ field: 'Mounts[*].Source', op: 'notMatches', value: 'docker\\.sock$' }),
      check({ every: 'Mounts[*]', assert: { field: 'Source', op: 'greaterThan', value: 3 } }),
      check({ field: 'self.self.self.a', op: 'equals', value: 1 }),
      check({ predicate: 'no-such-predicate' }),
      check({ field: 'a[', op: 'exists' }),
      check({ field: 'a', op: 'matches', value: '(' }),
    ];
    for (const facts of hostile) for (const c of checks) {
      const result = evaluate(c, facts as Facts);
      assert.ok(['pass', 'fail', 'warn', 'not-applicable', 'error'].includes(result.status));
    }
    assert.equal(evaluate(checks[4]!, {}).status, 'error');
    assert.equal(evaluate(checks[5]!, {}).status, 'error');
    assert.equal(evaluate(checks[0]!, null as unknown as Facts).status, 'error');
  });

  it('bounds evidence when thousands of values fail', () => {
    const facts = { ports: Array.from({ length: 5000 }, (_, i) => ({ hostPort: i + 1 })) };
    const result = evaluate(check({ field: 'ports[*].hostPort', op: 'equals', value: 0 }), facts);
    assert.equal(result.status, 'fail');
    assert.equal(result.evidence.length, 21);
    assert.match(result.evidence[20]?.summary ?? '', /4980 more/);
  });

  it('rejects assertions nested deeper than the bound as an error', () => {
    let deep: Assertion = { field: 'a', op: 'exists' };
    for (let i = 0; i < 100; i += 1) deep = { not: deep };
    assert.equal(evaluate(check(deep), { a: 1 }).status, 'error');
  });

  it('compares numbers written as text, as Docker writes host ports', () => {
    const c = check({ field: 'HostConfig.PortBindings[*][*].HostPort', op: 'greaterOrEqual', value: 1024 });
    assert.equal(evaluate(c, { HostConfig: { PortBindings: { '80/tcp': [{ HostPort: '80' }] } } }).status, 'fail');
    assert.equal(evaluate(c, { HostConfig: { PortBindings: { '80/tcp': [{ HostPort: '8080' }] } } }).status, 'pass');
  });
});
