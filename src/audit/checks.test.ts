/**
 * Every built-in check's own examples are its tests: each `pass` example must pass, each `fail` example must fail
 * (or warn, for an advisory check), each `notApplicable` example must not apply. Adding a check adds its tests.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { loadBenchmarks } from './benchmarks.ts';
import { loadChecks } from './load-checks.ts';
import { evaluate } from './evaluate.ts';

const checks = await loadChecks();

describe('built-in checks', () => {
  it('loads at least one check per target it claims to cover', () => {
    const targets = new Set(checks.map((check) => check.target));
    for (const target of ['docker.daemon', 'docker.container', 'docker.image', 'k8s.workload', 'k8s.kubelet', 'k8s.apiserver', 'k8s.etcd']) assert.ok(targets.has(target as never), target);
  });

  for (const check of checks) {
    describe(check.id, () => {
      check.examples.pass.forEach((facts, index) => {
        it(`passes its pass example ${index + 1}`, () => {
          const result = evaluate(check, facts);
          assert.equal(result.status, 'pass', `${check.source}: ${JSON.stringify(facts)} → ${JSON.stringify(result)}`);
        });
      });
      check.examples.fail.forEach((facts, index) => {
        it(`fails its fail example ${index + 1} with evidence`, () => {
          const result = evaluate(check, facts);
          assert.equal(result.status, check.advisory ? 'warn' : 'fail', `${check.source}: ${JSON.stringify(facts)} → ${JSON.stringify(result)}`);
          assert.ok(result.evidence.length > 0, 'a failure names what failed');
        });
      });
      (check.examples.notApplicable ?? []).forEach((facts, index) => {
        it(`does not apply to its notApplicable example ${index + 1}`, () => {
          assert.equal(evaluate(check, facts).status, 'not-applicable');
        });
      });
    });
  }

  it('every benchmark control names existing checks, and ids in a file are unique', async () => {
    const ids = new Set(checks.map((check) => check.id));
    for (const benchmark of await loadBenchmarks()) {
      const seen = new Set<string>();
      for (const control of benchmark.controls) {
        assert.ok(!seen.has(control.id), `${benchmark.source}: control ${control.id} twice`);
        seen.add(control.id);
        for (const id of control.checks) assert.ok(ids.has(id), `${benchmark.source}: control ${control.id} names unknown check ${id}`);
      }
    }
  });
});
