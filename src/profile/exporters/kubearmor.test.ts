import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { isNomineError } from '../../core/errors.ts';
import { bareProfile, egress, processes, writes } from '../../../test/fixtures/exports/example-profile.ts';
import { kubeArmorExporter, kubeArmorFileRule } from './kubearmor.ts';
import { validatePolicyText } from './validate-policy.ts';

function exported(profile = bareProfile({ allow: { processes: processes('/app/server') } })) {
  const result = kubeArmorExporter.export(profile, {});
  assert.deepEqual(validatePolicyText('kubearmor', result.content), { valid: true, errors: [] });
  return { policy: parse(result.content), warnings: result.warnings, content: result.content };
}

describe('KubeArmor exporter', () => {
  it('is an allow-list: action Allow on the learned processes, reads open, writes only where learned', () => {
    const { policy } = exported(bareProfile({ allow: { processes: processes('/usr/sbin/nginx', '/bin/sh'), fileWrites: writes('/tmp/*', '/var/cache/nginx/**', '/var/log/nginx/access.log', '/var/lib/*/x.db') } }));
    assert.equal(policy.spec.action, 'Allow');
    assert.deepEqual(policy.spec.selector, { matchLabels: { app: 'api' } });
    assert.deepEqual(policy.spec.process, { matchPaths: [{ path: '/bin/sh' }, { path: '/usr/sbin/nginx' }] });
    assert.deepEqual(policy.spec.file, {
      matchDirectories: [{ dir: '/', recursive: true, readOnly: true }, { dir: '/tmp/' }, { dir: '/var/cache/nginx/', recursive: true }],
      matchPaths: [{ path: '/var/log/nginx/access.log' }],
      matchPatterns: [{ pattern: '/var/lib/*/x.db' }],
    });
  });

  it('tells the user that blocking needs the namespace posture set to block', () => {
    const { warnings, content } = exported();
    assert.ok(warnings.some((warning) => warning.includes('kubectl annotate ns shop kubearmor-file-posture=block kubearmor-network-posture=block')));
    assert.match(content, /^# +kubectl annotate ns shop kubearmor-file-posture=block/m);
  });

  it('allows the protocols the workload used and no network rule when it used none', () => {
    assert.equal(exported().policy.spec.network, undefined);
    const { policy } = exported(bareProfile({ allow: { processes: processes('/a'), egress: egress(['10.0.0.1', 53, 'udp'], ['10.0.0.2', 443, 'tcp']) } }));
    assert.deepEqual(policy.spec.network, { matchProtocols: [{ protocol: 'tcp' }, { protocol: 'udp' }] });
  });

  it('maps write patterns onto paths, directories and patterns', () => {
    assert.deepEqual(kubeArmorFileRule('/etc/app.conf'), { kind: 'path', path: '/etc/app.conf' });
    assert.deepEqual(kubeArmorFileRule('/tmp/*'), { kind: 'dir', dir: '/tmp/', recursive: false });
    assert.deepEqual(kubeArmorFileRule('/var/**'), { kind: 'dir', dir: '/var/', recursive: true });
    assert.deepEqual(kubeArmorFileRule('/var/*/log/**'), { kind: 'pattern', pattern: '/var/*/log/**' });
    assert.equal(kubeArmorFileRule('relative'), undefined);
    assert.equal(kubeArmorFileRule('/dir/'), undefined);
    assert.equal(kubeArmorFileRule('/a\nb'), undefined);
  });

  it('leaves out executables its CRD cannot match and refuses when none are left', () => {
    const { policy, warnings } = exported(bareProfile({ allow: { processes: processes('/ok', 'relative', '/bad\n', '/dir/') } }));
    assert.deepEqual(policy.spec.process.matchPaths, [{ path: '/ok' }]);
    assert.ok(warnings.some((warning) => /left out executables/.test(warning)));
    assert.throws(() => kubeArmorExporter.export(bareProfile(), {}), (error: unknown) => isNomineError(error) && /block every program/.test(error.message));
  });

  it('refuses an empty selector', () => {
    assert.throws(() => kubeArmorExporter.export(bareProfile({ selector: {}, allow: { processes: processes('/a') } }), {}), (error: unknown) => isNomineError(error) && /allow-list mode/.test(error.message));
  });
});
