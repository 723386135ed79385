import { describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { parse, stringify } from 'yaml';
import { learnedExampleProfile } from '../../../test/fixtures/exports/example-profile.ts';
import { exporters } from './exporters.ts';
import { schemaDirectory, validatePolicyDocument, validatePolicyText } from './validate-policy.ts';

const profile = learnedExampleProfile();
const documentOf = (format: 'networkpolicy' | 'kubearmor' | 'tetragon' | 'falco') => parse(exporters[format].export(profile, {}).content);
const seccompDocument = () => JSON.parse(exporters.seccomp.export(profile, {}).content);

/** Each mutation breaks a rule its published schema states; the validator must catch every one. */
const brokenDocuments: [string, 'seccomp' | 'networkpolicy' | 'kubearmor' | 'tetragon' | 'falco', () => unknown, RegExp][] = [
  ['seccomp: unknown default action', 'seccomp', () => ({ ...seccompDocument(), defaultAction: 'SCMP_ACT_MAYBE' }), /defaultAction/],
  ['seccomp: syscall names not a list', 'seccomp', () => ({ ...seccompDocument(), syscalls: [{ names: 'read', action: 'SCMP_ACT_ALLOW' }] }), /names/],
  ['seccomp: both architectures and archMap', 'seccomp', () => ({ ...seccompDocument(), archMap: [{ architecture: 'SCMP_ARCH_X86_64' }] }), /must NOT be valid/],
  ['seccomp: argument index past the sixth', 'seccomp', () => ({ ...seccompDocument(), syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }] }] }), /index/],
  ['NetworkPolicy: port as an object', 'networkpolicy', () => { const d = documentOf('networkpolicy'); d.spec.egress[0].ports[0].port = { number: 53 }; return d; }, /port/],
  ['NetworkPolicy: unknown field in spec', 'networkpolicy', () => { const d = documentOf('networkpolicy'); d.spec.egres = []; return d; }, /additional properties/],
  ['NetworkPolicy: ipBlock without cidr', 'networkpolicy', () => { const d = documentOf('networkpolicy'); d.spec.egress[1].to[0].ipBlock = {}; return d; }, /cidr/],
  ['NetworkPolicy: wrong kind', 'networkpolicy', () => ({ ...documentOf('networkpolicy'), kind: 'NetworkPolicyy' }), /kind/],
  ['NetworkPolicy: name with upper case', 'networkpolicy', () => { const d = documentOf('networkpolicy'); d.metadata.name = 'Nomine_Web'; return d; }, /metadata\/name/],
  ['NetworkPolicy: label value too long', 'networkpolicy', () => { const d = documentOf('networkpolicy'); d.spec.podSelector.matchLabels.app = 'x'.repeat(64); return d; }, /label value/],
  ['KubeArmor: action Deny (not Allow, Audit or Block)', 'kubearmor', () => ({ ...documentOf('kubearmor'), spec: { ...documentOf('kubearmor').spec, action: 'Deny' } }), /action/],
  ['KubeArmor: relative process path', 'kubearmor', () => { const d = documentOf('kubearmor'); d.spec.process.matchPaths[0].path = 'bin/sh'; return d; }, /pattern/],
  ['KubeArmor: directory without trailing slash', 'kubearmor', () => { const d = documentOf('kubearmor'); d.spec.file.matchDirectories[1].dir = '/tmp'; return d; }, /pattern/],
  ['KubeArmor: wrong apiVersion', 'kubearmor', () => ({ ...documentOf('kubearmor'), apiVersion: 'security.kubearmor.com/v2' }), /apiVersion/],
  ['Tetragon: unknown action', 'tetragon', () => { const d = documentOf('tetragon'); d.spec.kprobes[0].selectors[0].matchActions[0].action = 'Kill'; return d; }, /action/],
  ['Tetragon: kprobe without call', 'tetragon', () => { const d = documentOf('tetragon'); delete d.spec.kprobes[0].call; return d; }, /call/],
  ['Tetragon: matchArgs without values', 'tetragon', () => { const d = documentOf('tetragon'); delete d.spec.kprobes[0].selectors[0].matchArgs[0].values; return d; }, /values/],
  ['Falco: unknown priority', 'falco', () => { const d = documentOf('falco'); d[4].priority = 'SEVERE'; return d; }, /priority/],
  ['Falco: misspelled key', 'falco', () => { const d = documentOf('falco'); d[4].condtion = d[4].condition; return d; }, /additional properties/],
  ['Falco: not a list of items', 'falco', () => ({ rule: 'x' }), /must be array/],
];

/** As listed in data/schemas/README.md: the vendored files are the published ones, unedited. */
const vendoredSchemas: Record<string, string> = {
  'falco-rules.schema.json': '2593ed511e759cf7aafcf104b0ac178bbdaf088376e4ff52ff43de865f231f4b',
  'kubearmorpolicy-crd.yaml': '9e4c07d4639497db1c180b907c753f0a94e5ea8fdc877fdb24c918314ba028eb',
  'networkpolicy-networking-v1.json': '02c9ed2d39691572ac09e58748846de6b292635d229361331db1e08541a73c48',
  'seccomp-profile.schema.json': '68b24ab8f33a62aab6d67c4ae4e5ef46c223dbbaf76786fba97b8ebad80dda43',
  'tracingpolicy-crd.yaml': 'f75a83f2f6825264192572e666ce7cdbdaeb23323ff5f6fa3d2b90b41ae5dd9b',
};

describe('policy validation against the vendored schemas', () => {
  it('uses the vendored schema files unedited, each listed in the README', () => {
    const readme = readFileSync(new URL('README.md', schemaDirectory), 'utf8');
    for (const [file, sha256] of Object.entries(vendoredSchemas)) {
      assert.equal(createHash('sha256').update(readFileSync(new URL(file, schemaDirectory))).digest('hex'), sha256, file);
      assert.ok(readme.includes(`| \`${file}\` | \`${sha256}\` |`), `README lists ${file}`);
    }
  });

  for (const [name, format, make, expected] of brokenDocuments) {
    it(`catches a broken document — ${name}`, () => {
      const result = validatePolicyDocument(format, make());
      assert.equal(result.valid, false);
      assert.ok(result.errors.some((error) => expected.test(error)), result.errors.join('\n'));
    });
  }

  it('reports broken text instead of throwing: truncated, garbage, wrong types, empty', () => {
    const seccomp = exporters.seccomp.export(profile, {}).content;
    const networkPolicy = exporters.networkpolicy.export(profile, {}).content;
    const cases: [Parameters<typeof validatePolicyText>[0], string][] = [
      ['seccomp', seccomp.slice(0, seccomp.length / 2)],
      ['seccomp', '\u0000\u0001garbage'],
      ['seccomp', '[]'],
      ['seccomp', 'null'],
      ['networkpolicy', networkPolicy.slice(0, networkPolicy.indexOf('spec:') + 20) + '\n  : ]['],
      ['networkpolicy', ''],
      ['networkpolicy', '42'],
      ['kubearmor', '{{{{'],
      ['tetragon', stringify({ apiVersion: 'cilium.io/v1alpha1', kind: 'TracingPolicy', metadata: { name: 'x' }, spec: { kprobes: 'all' } })],
      ['falco', '- rule: [unterminated'],
      ['apparmor', 'profile x {\n  /tmp/* rw\n'],
    ];
    for (const [format, text] of cases) {
      const result = validatePolicyText(format, text);
      assert.equal(result.valid, false, `${format}: ${JSON.stringify(text.slice(0, 40))}`);
      assert.ok(result.errors.length > 0);
    }
  });

  it('validates every document of a multi-document YAML file', () => {
    const one = exporters.networkpolicy.export(profile, {}).content;
    assert.equal(validatePolicyText('networkpolicy', `${one}---\n${one}`).valid, true);
    const result = validatePolicyText('networkpolicy', `${one}---\n${one.replace('kind: NetworkPolicy', 'kind: Pod')}`);
    assert.equal(result.valid, false);
    assert.ok(result.errors.every((error) => error.startsWith('document 2:')));
  });
});
