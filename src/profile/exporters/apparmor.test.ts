import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { isNomineError } from '../../core/errors.ts';
import { bareProfile, learnedExampleProfile, processes, writes } from '../../../test/fixtures/exports/example-profile.ts';
import { apparmorExporter } from './apparmor.ts';
import { checkAppArmorProfile } from './validate-policy.ts';

/**
 * Debian's apparmor package parses profiles without a kernel that enforces them (-Q: no load, -K: no cache). Where
 * it is missing the profile is only checked structurally — say so in the skip reason.
 */
const parserMissing = spawnSync('apparmor_parser', ['--version']).status === 0 ? false : 'apparmor_parser is not installed (Debian package apparmor): structural checks only';

function parse(content: string): { status: number | null; stderr: string } {
  const result = spawnSync('apparmor_parser', ['-Q', '-K'], { input: content, encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr };
}

const exportOf = (profile = bareProfile({ allow: { processes: processes('/app/server') } })) => apparmorExporter.export(profile, {});

describe('AppArmor exporter', () => {
  it('lets the learned executables run under this same profile and nothing else', () => {
    const { content } = exportOf(bareProfile({ allow: { processes: processes('/usr/sbin/nginx', '/bin/sh') } }));
    assert.match(content, /^ {2}"\/bin\/sh" mrix,$/m);
    assert.match(content, /^ {2}"\/usr\/sbin\/nginx" mrix,$/m);
    assert.equal((content.match(/ mrix,$/gm) ?? []).length, 2);
    assert.doesNotMatch(content, /\bpx\b|\bux\b|\bUx\b/);
  });

  it('writes only where the workload wrote, with AppArmor globs', () => {
    const { content } = exportOf(bareProfile({ allow: { processes: processes('/app/server'), fileWrites: writes('/tmp/*', '/var/cache/app/**', '/var/log/app-*.log', '/data/db.sqlite') } }));
    const writeRules = content.split('\n').filter((line) => line.endsWith(' rwk,'));
    assert.deepEqual(writeRules, ['  "/data/db.sqlite" rwk,', '  "/tmp/*" rwk,', '  "/var/cache/app/**" rwk,', '  "/var/log/app-*.log" rwk,']);
    assert.doesNotMatch(content, /^\s*\/\*\* [a-z]*w/m, 'no blanket write rule');
  });

  it('opens inet sockets only for the protocols the workload used', () => {
    assert.doesNotMatch(exportOf().content, /network inet/);
    const tcp = exportOf(bareProfile({ allow: { processes: processes('/a'), listen: [{ port: 80, protocol: 'tcp', source: 'learned', firstSeen: 0 }] } })).content;
    assert.match(tcp, /network inet stream,/);
    assert.doesNotMatch(tcp, /dgram/);
  });

  it('leaves out paths with quotes, backslashes, newlines or pattern characters, and says so', () => {
    const hostile = ['/bin/ok', '/bin/a"b', '/bin/a\\b', '/bin/a\nb', '/bin/{a,b}', '/bin/*', 'relative/bin', '/bin/a[1]'];
    const { content, warnings } = exportOf(bareProfile({ allow: { processes: processes(...hostile), fileWrites: writes('/tmp/"x', '/tmp/ok*') } }));
    assert.deepEqual(checkAppArmorProfile(content), { valid: true, errors: [] });
    assert.match(content, /"\/bin\/ok" mrix,/);
    assert.equal((content.match(/ mrix,$/gm) ?? []).length, 1);
    assert.match(content, /"\/tmp\/ok\*" rwk,/);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /left out executables .*"\/bin\/a\\"b"/);
  });

  it('refuses a profile without any executable it can name: the entrypoint would be denied too', () => {
    assert.throws(() => exportOf(bareProfile()), (error: unknown) => isNomineError(error) && /no executables AppArmor can name/.test(error.message));
  });

  it('is checked structurally: a missing comma or brace is caught', () => {
    const { content } = exportOf();
    assert.deepEqual(checkAppArmorProfile(content), { valid: true, errors: [] });
    assert.equal(checkAppArmorProfile(content.replace('capability,', 'capability')).valid, false);
    assert.equal(checkAppArmorProfile(content.replace(/\}\n$/, '\n')).valid, false);
    assert.equal(checkAppArmorProfile(content.replace('"/app/server"', '"/app/server')).valid, false);
  });

  it('is accepted by apparmor_parser: the example, unicode and spaces in paths, and 2 000 executables', { skip: parserMissing }, () => {
    const unicode = bareProfile({ allow: { processes: processes('/opt/my app/bin/sërver', '/usr/bin/python3'), fileWrites: writes('/srv/data dir/*', '/tmp/ünï/**') } });
    // 2 000, not 10 000: the parser compiles the profile to a DFA, seconds for 10 000 paths on a busy machine.
    const many = bareProfile({ allow: { processes: processes(...Array.from({ length: 2_000 }, (_, i) => `/opt/bin/tool-${i}`)) } });
    for (const profile of [learnedExampleProfile(), unicode, many]) {
      const result = parse(apparmorExporter.export(profile, {}).content);
      assert.equal(result.status, 0, result.stderr);
    }
  });

  it('apparmor_parser rejects a broken profile, so the check above can fail', { skip: parserMissing }, () => {
    const broken = exportOf().content.replace('capability,', 'capability');
    assert.notEqual(parse(broken).status, 0);
  });
});
