import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isNomineError } from '../../core/errors.ts';
import { bareProfile } from '../../../test/fixtures/exports/example-profile.ts';
import { runtimeStartSyscalls, seccompExporter, type SeccompProfileDocument } from './seccomp.ts';
import { validatePolicyText } from './validate-policy.ts';

function exported(syscalls: string[] | undefined) {
  const result = seccompExporter.export(bareProfile({ allow: { syscalls } }), {});
  return { document: JSON.parse(result.content) as SeccompProfileDocument, warnings: result.warnings, content: result.content };
}

const allowed = (document: SeccompProfileDocument) => document.syscalls.flatMap((rule) => rule.names);

describe('seccomp exporter', () => {
  it('refuses a profile without syscall data and names what can still be exported', () => {
    assert.throws(
      () => seccompExporter.export(bareProfile(), {}),
      (error: unknown) =>
        isNomineError(error) &&
        error.code === 'invalid-input' &&
        error.message === 'profile wl-0123456789ab has no syscall data (the sensor gave none); seccomp cannot be exported; processes, network and file paths can' &&
        error.part === 'profile wl-0123456789ab',
    );
  });

  it('denies by default with EPERM, for x86_64, x86 and x32 code', () => {
    const { document } = exported(['read']);
    assert.equal(document.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(document.defaultErrnoRet, 1);
    assert.deepEqual(document.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  });

  it('allows exactly the learned syscalls plus the runtime start set, sorted and without duplicates', () => {
    const { document } = exported(['socket', 'read', 'accept4', 'socket', 'epoll_wait']);
    const names = allowed(document);
    assert.equal(new Set(names).size, names.length);
    assert.deepEqual([...names].sort(), [...new Set([...runtimeStartSyscalls, 'socket', 'accept4', 'epoll_wait'])].sort());
    for (const rule of document.syscalls) assert.deepEqual(rule.names, [...rule.names].sort());
    assert.ok(!names.includes('personality') && !names.includes('mbind'), 'nothing unlearned beyond the start set');
  });

  it('keeps the runtime start set minimal: what runc does after installing the filter, not a default profile', () => {
    assert.ok(runtimeStartSyscalls.length < 40);
    for (const needed of ['execve', 'capset', 'setuid', 'setgroups', 'prctl', 'futex', 'exit_group']) assert.ok(runtimeStartSyscalls.includes(needed), needed);
    for (const dangerous of ['socket', 'connect', 'ptrace', 'mount', 'bpf', 'personality', 'keyctl', 'unshare']) assert.ok(!runtimeStartSyscalls.includes(dangerous), dangerous);
  });

  it('leaves out entries that are not syscall names, and says so', () => {
    const hostile = ['read', 'syscall_999', 'Read', 'read"; rm', 'a\nb', '', 'x'.repeat(200), 42 as unknown as string];
    const { document, warnings } = exported(hostile);
    assert.ok(allowed(document).includes('read'));
    for (const bad of hostile.slice(1)) assert.ok(!allowed(document).includes(bad));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /not syscall names: "syscall_999", "Read"/);
  });

  it('warns that a profile with no syscalls learned will most likely not run', () => {
    const { document, warnings } = exported([]);
    assert.deepEqual([...allowed(document)].sort(), [...runtimeStartSyscalls].sort());
    assert.ok(warnings.some((warning) => /no syscalls were learned/.test(warning)));
  });

  it('escapes a hostile workload name inside its JSON comment', () => {
    const result = seccompExporter.export(bareProfile({ key: { imageDigest: 'sha256:1', workload: 'container:evil"},\n{"action":"SCMP_ACT_ALLOW' }, allow: { syscalls: ['accept4'] } }), {});
    assert.deepEqual(validatePolicyText('seccomp', result.content), { valid: true, errors: [] });
    const document = JSON.parse(result.content) as SeccompProfileDocument;
    assert.equal(document.syscalls.length, 2);
    assert.equal(document.defaultAction, 'SCMP_ACT_ERRNO');
  });

  it('exports 10 000 learned names in well under a second', () => {
    const many = Array.from({ length: 10_000 }, (_, index) => `sys_${index.toString(36)}`);
    const started = performance.now();
    const { document } = exported(many);
    assert.ok(performance.now() - started < 1000);
    assert.equal(allowed(document).length, 10_000 + runtimeStartSyscalls.length);
  });
});
