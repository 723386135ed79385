import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { isNomineError } from '../../core/errors.ts';
import { bareProfile, egress, processes, writes } from '../../../test/fixtures/exports/example-profile.ts';
import { falcoExporter } from './falco.ts';
import { validatePolicyText } from './validate-policy.ts';

type Item = { list?: string; items?: string[]; macro?: string; rule?: string; condition?: string; priority?: string; output?: string };

function exported(profile = bareProfile({ allow: { processes: processes('/app/server') } })) {
  const result = falcoExporter.export(profile, {});
  assert.deepEqual(validatePolicyText('falco', result.content), { valid: true, errors: [] });
  const items = parse(result.content) as Item[];
  const byName = (name: string) => items.find((item) => item.list?.endsWith(name) || item.macro?.endsWith(name) || item.rule?.endsWith(name))!;
  return { items, byName, warnings: result.warnings };
}

describe('Falco exporter', () => {
  it('lists the allowed programs quoted, so paths with spaces stay one item', () => {
    const { byName } = exported(bareProfile({ allow: { processes: processes('/opt/my app/run', '/bin/sh') } }));
    assert.deepEqual(byName('_executables').items, ['"/bin/sh"', '"/opt/my app/run"']);
  });

  it('scopes every rule to the workload: namespace and pod labels in Kubernetes, container labels or image elsewhere', () => {
    assert.equal(exported().byName('_workload').condition, '(k8s.ns.name = "shop" and k8s.pod.label[app] = "api")');
    const compose = bareProfile({ kubernetes: undefined, selector: { 'com.docker.compose.service': 'db' }, allow: { processes: processes('/a') } });
    assert.equal(exported(compose).byName('_workload').condition, '(container.label[com.docker.compose.service] = "db")');
    const plain = bareProfile({ kubernetes: undefined, selector: {}, image: 'registry.local:5000/team/api:2.0@sha256:abcd', allow: { processes: processes('/a') } });
    assert.equal(exported(plain).byName('_workload').condition, '(container.image.repository = "registry.local:5000/team/api")');
    assert.throws(() => falcoExporter.export(bareProfile({ kubernetes: undefined, selector: {}, image: undefined }), {}), (error: unknown) => isNomineError(error) && /cannot be scoped/.test(error.message));
  });

  it('alerts on programs, connections and writes outside the allow-list', () => {
    const profile = bareProfile({ allow: { processes: processes('/app/server'), egress: egress(['10.0.0.5', 5432, 'tcp'], ['10.2.0.0/16', 53, 'udp']), fileWrites: writes('/tmp/*', '/var/cache/app/**', '/data/app.db', '/var/*/x') } });
    const { items, byName } = exported(profile);
    const rules = items.filter((item) => item.rule);
    assert.deepEqual(rules.map((rule) => rule.priority), ['CRITICAL', 'CRITICAL', 'WARNING']);
    assert.match(byName('unexpected process').condition!, /not proc\.exepath in \(nomine_api_0123456789ab_executables\)/);
    assert.equal(byName('_allowed_destinations').condition, '((fd.sip = "10.0.0.5" and ((fd.sport = 5432 and fd.l4proto = tcp))) or (fd.snet = "10.2.0.0/16" and ((fd.sport = 53 and fd.l4proto = udp))))');
    assert.equal(byName('_allowed_writes').condition, '(fd.directory = "/tmp" or fd.name = "/data/app.db" or fd.name glob "/var/*/x" or fd.name startswith "/var/cache/app/")');
  });

  it('writes a never-true macro for an allowance the workload never used', () => {
    assert.equal(exported().byName('_allowed_destinations').condition, '(evt.num = 0)');
    assert.equal(exported().byName('_allowed_writes').condition, '(evt.num = 0)');
  });

  it('leaves out strings a Falco condition cannot quote, and says so', () => {
    const profile = bareProfile({ allow: { processes: processes('/ok', '/bin/"x', '/bin/a\\b'), fileWrites: writes('/tmp/ok', '/tmp/"; evt.num = 0 or "') } });
    const { byName, warnings } = exported(profile);
    assert.deepEqual(byName('_executables').items, ['"/ok"']);
    assert.equal(byName('_allowed_writes').condition, '(fd.name = "/tmp/ok")');
    assert.equal(warnings.length, 2);
  });

  it('uses only the profile name, never raw workload text, in names and outputs', () => {
    const profile = bareProfile({ key: { imageDigest: 'sha256:1', workload: 'container:%proc.name\nrule: evil' }, kubernetes: undefined, selector: { app: 'x' }, allow: { processes: processes('/a') } });
    const { items } = exported(profile);
    for (const item of items) {
      for (const name of [item.list, item.macro]) if (name) assert.match(name, /^[a-z0-9_]+$/);
      for (const text of [item.rule, item.output, item.condition]) if (text) assert.ok(!text.includes('%proc.name') && !text.includes('\n'), text);
    }
  });
});
