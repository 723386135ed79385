import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import { isNomineError } from '../../core/errors.ts';
import type { Profile } from '../profile.ts';
import { bareProfile, egress, processes, writes } from '../../../test/fixtures/exports/example-profile.ts';
import { exporters, policyFormats } from './exporters.ts';
import { isDnsLabel } from './kubernetes-name.ts';
import { validatePolicyText } from './validate-policy.ts';

const many = 10_000;

const hostileProfiles: Record<string, Profile> = {
  'spaces, unicode and upper case in names': bareProfile({
    id: 'wl-Ünï Cödé',
    key: { imageDigest: 'sha256:ÿ', workload: 'compose:Mÿ Prøject/Web Sérvice' },
    image: 'Registry.Local/Ünï:1',
    kubernetes: undefined,
    selector: { App: 'Web_Service.1' },
    allow: { processes: processes('/opt/Mÿ App/Bin/Sërver'), fileWrites: writes('/srv/Dätä Dir/*'), syscalls: ['read'] },
  }),
  // Past profileLimits (512) on purpose: a profile from elsewhere (an import, a hand edit) is not bounded.
  '10 000 executables': bareProfile({
    allow: {
      processes: processes(...Array.from({ length: many }, (_, i) => `/opt/bin/tool-${i}`)),
      fileWrites: writes(...Array.from({ length: 100 }, (_, i) => `/var/data/${i}/*`)),
      egress: egress(...Array.from({ length: 100 }, (_, i) => [`10.${(i >> 8) & 255}.${i & 255}.1`, 443, 'tcp'] as [string, number, 'tcp'])),
      syscalls: Array.from({ length: 400 }, (_, i) => `call_${i}`),
    },
  }),
  'empty allowances': bareProfile(),
  'quotes, newlines and NUL in paths': bareProfile({
    allow: {
      processes: processes('/bin/ok', '/bin/a"b', '/bin/a\nb', '/bin/\u0000x', "/bin/it's", '/bin/a\\b', '/bin/\u2028'),
      fileWrites: writes('/tmp/"; rm -rf /', '/tmp/a\nb', "/tmp/it's/*", '/tmp/ok'),
      egress: egress(['10.0.0.1\n', 80, 'tcp'], ['10.0.0.2', 80, 'tcp']),
      syscalls: ['read', 'write"', 'open\n'],
    },
  }),
  'wrong types where strings and numbers belong': bareProfile({
    allow: {
      processes: [{ exe: 42, sha256: [], parents: [], source: 'learned', firstSeen: 0 }, { exe: '/bin/ok', sha256: [], parents: [], source: 'learned', firstSeen: 0 }] as unknown as Profile['allow']['processes'],
      fileWrites: [{ pattern: null, source: 'learned', firstSeen: 0 }] as unknown as Profile['allow']['fileWrites'],
      egress: [{ address: {}, port: '80', protocol: 'icmp', source: 'learned', firstSeen: 0 }] as unknown as Profile['allow']['egress'],
      listen: [{ port: -1, protocol: 'tcp', source: 'learned', firstSeen: 0 }],
      syscalls: ['read', 5] as unknown as string[],
    },
  }),
  'a hostile id and workload': bareProfile({
    id: 'wl-../../etc/passwd',
    key: { imageDigest: 'sha256:1\n# injected', workload: 'container:evil\n# comment: injected\u2028' },
    image: 'evil"image',
    allow: { processes: processes('/bin/sh'), syscalls: ['read'] },
  }),
};

function checkOutput(format: (typeof policyFormats)[number], content: string): void {
  assert.deepEqual(validatePolicyText(format, content), { valid: true, errors: [] });
  if (format === 'networkpolicy' || format === 'kubearmor' || format === 'tetragon') {
    const [document] = parseAllDocuments(content).map((d) => d.toJS() as { metadata: { name: string } });
    assert.ok(isDnsLabel(document!.metadata.name), document!.metadata.name);
  }
  // Comments stay comments: nothing a profile holds can start a line of its own.
  for (const line of content.split('\n')) assert.doesNotMatch(line, /^# ?(comment|injected)|^injected/);
}

describe('exporters on hostile profiles', () => {
  for (const [name, profile] of Object.entries(hostileProfiles)) {
    it(`either exports valid policies or refuses with a reason — ${name}`, () => {
      for (const format of policyFormats) {
        let content: string | undefined;
        try {
          content = exporters[format].export(profile, {}).content;
        } catch (error) {
          assert.ok(isNomineError(error) && error.code === 'invalid-input', `${format}: ${String(error)}`);
          assert.match(error.message, /profile /);
        }
        if (content !== undefined) checkOutput(format, content);
        assert.ok(isDnsLabel(exporters[format].fileName(profile).split('.')[0]!));
      }
    });
  }

  it('exports what it can of the empty profile and refuses what would block everything', () => {
    const outcome = Object.fromEntries(
      policyFormats.map((format) => {
        try {
          exporters[format].export(hostileProfiles['empty allowances']!, {});
          return [format, 'exported'];
        } catch {
          return [format, 'refused'];
        }
      }),
    );
    assert.deepEqual(outcome, { seccomp: 'refused', networkpolicy: 'exported', apparmor: 'refused', kubearmor: 'refused', tetragon: 'refused', falco: 'exported' });
  });

  it('keeps the one good entry of a profile full of broken ones', () => {
    const profile = hostileProfiles['quotes, newlines and NUL in paths']!;
    assert.match(exporters.apparmor.export(profile, {}).content, /"\/bin\/ok" mrix,/);
    assert.match(exporters.falco.export(profile, {}).content, /'"\/bin\/ok"'/);
    assert.match(exporters.networkpolicy.export(profile, {}).content, /cidr: 10\.0\.0\.2\/32/);
  });
});
