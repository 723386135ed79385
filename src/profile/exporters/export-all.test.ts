import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { isNomineError } from '../../core/errors.ts';
import { bareProfile, learnedExampleProfile, processes } from '../../../test/fixtures/exports/example-profile.ts';
import { exportAll, kustomizationFile, planPolicyExport, writePolicyDirectory } from './export-all.ts';
import type { PolicyFormat } from './exporters.ts';
import { isDnsLabel } from './kubernetes-name.ts';
import { validatePolicyText } from './validate-policy.ts';

const example = learnedExampleProfile();
const noSyscalls = bareProfile({ id: 'wl-aaaaaaaaaaaa', allow: { processes: processes('/app/api') } });
const learning = bareProfile({ id: 'wl-bbbbbbbbbbbb', phase: 'learning', allow: { processes: processes('/app/worker'), syscalls: ['read'] } });

describe('export all', () => {
  it('plans every format of every enforcing profile and a kustomization of the Kubernetes objects', () => {
    const plan = planPolicyExport([example, noSyscalls, learning]);
    const kustomization = parse(plan.files.find((file) => file.path === kustomizationFile)!.content);
    assert.equal(kustomization.kind, 'Kustomization');
    assert.deepEqual(kustomization.resources, [
      'networkpolicy/nomine-api-aaaaaaaaaaaa.networkpolicy.yaml',
      'kubearmor/nomine-api-aaaaaaaaaaaa.kubearmor.yaml',
      'tetragon/nomine-api-aaaaaaaaaaaa.tetragon.yaml',
      'networkpolicy/nomine-web-f9a7e654435b.networkpolicy.yaml',
      'kubearmor/nomine-web-f9a7e654435b.kubearmor.yaml',
      'tetragon/nomine-web-f9a7e654435b.tetragon.yaml',
    ]);
    const kustomizationText = plan.files.find((file) => file.path === kustomizationFile)!.content;
    assert.match(kustomizationText, /#   seccomp\/nomine-web-f9a7e654435b\.seccomp\.json/);
    for (const file of plan.files.filter((f) => f.path !== kustomizationFile)) {
      const format = file.path.split('/')[0] as PolicyFormat;
      assert.deepEqual(validatePolicyText(format, file.content), { valid: true, errors: [] }, file.path);
      assert.ok(isDnsLabel(file.path.split('/')[1]!.split('.')[0]!));
    }
  });

  it('skips a learning profile and a format a profile lacks data for, saying why, and goes on with the rest', () => {
    const plan = planPolicyExport([example, noSyscalls, learning]);
    assert.deepEqual(
      plan.skipped.map((note) => [note.profileId, note.format ?? '-']),
      [
        ['wl-aaaaaaaaaaaa', 'seccomp'],
        ['wl-bbbbbbbbbbbb', '-'],
      ],
    );
    assert.match(plan.skipped[0]!.message, /no syscall data/);
    assert.match(plan.skipped[1]!.message, /still learning/);
    assert.equal(planPolicyExport([learning], { force: true }).skipped.length, 0);
  });

  it('writes only the chosen formats and refuses an unknown one', () => {
    const plan = planPolicyExport([example], { formats: ['seccomp', 'networkpolicy'] });
    assert.deepEqual(plan.files.map((file) => file.path), ['seccomp/nomine-web-f9a7e654435b.seccomp.json', 'networkpolicy/nomine-web-f9a7e654435b.networkpolicy.yaml', kustomizationFile]);
    assert.throws(() => planPolicyExport([example], { formats: ['seccomp', 'opa'] }), (error: unknown) => isNomineError(error) && /unknown policy format "opa"/.test(error.message));
  });

  it('writes the directory kubectl apply -k reads, and the same plan twice gives the same files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nomine-export-all-'));
    try {
      const result = exportAll([example, noSyscalls], join(dir, 'out'));
      assert.equal(result.files.length, result.plan.files.length);
      assert.deepEqual((await readdir(join(dir, 'out'))).sort(), ['apparmor', 'falco', 'kubearmor', kustomizationFile, 'networkpolicy', 'seccomp', 'tetragon']);
      const kustomization = parse(await readFile(join(dir, 'out', kustomizationFile), 'utf8'));
      for (const resource of kustomization.resources as string[]) await readFile(join(dir, 'out', resource), 'utf8');
      assert.ok(result.warnings.some((warning) => warning.startsWith('skipped wl-aaaaaaaaaaaa seccomp: ')));
      const again = exportAll([noSyscalls, example], join(dir, 'again'));
      for (const file of again.plan.files) assert.equal(await readFile(join(dir, 'again', ...file.path.split('/')), 'utf8'), await readFile(join(dir, 'out', ...file.path.split('/')), 'utf8'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to write outside the export directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nomine-export-all-'));
    try {
      for (const path of ['../escape.yaml', '/etc/x.yaml', '', 'a/../../b']) {
        assert.throws(() => writePolicyDirectory(join(dir, 'out'), { files: [{ path, content: 'x' }], warnings: [], skipped: [] }), (error: unknown) => isNomineError(error) && /leaves the export directory/.test(error.message), path);
      }
      assert.deepEqual(await readdir(dir), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
