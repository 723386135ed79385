import { strict as assert } from 'node:assert';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { collectDockerHostFiles, tlsFilesFromSettings, type HostFileFacts } from './docker-host-files.ts';

describe('collectDockerHostFiles', () => {
  it('stats the files it is pointed at; absent ones are exists: false', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nomine-host-files-'));
    try {
      await mkdir(join(dir, 'units'));
      await writeFile(join(dir, 'real.service'), '[Unit]\n');
      await chmod(join(dir, 'real.service'), 0o640);
      await symlink(join(dir, 'real.service'), join(dir, 'units/docker.service'));
      await writeFile(join(dir, 'group'), `wheel:x:${process.getgid?.() ?? 0}:\n`);
      const collection = await collectDockerHostFiles({
        unitDirs: [join(dir, 'missing'), join(dir, 'units')],
        etcDocker: join(dir, 'etc-docker'),
        groupFile: join(dir, 'group'),
        socket: join(dir, 'docker.sock'),
        tls: { key: join(dir, 'real.service') },
      });
      const facts = collection.entities[0]?.facts as { files: Record<string, HostFileFacts>; tls: Record<string, HostFileFacts>; registryCerts: unknown[] };
      assert.equal(collection.entities[0]?.target, 'docker.host');
      const unit = facts.files.dockerService!;
      assert.equal(unit.path, join(dir, 'units/docker.service'));
      assert.equal(unit.mode, 0o640, 'a symlink is judged by its target’s mode');
      assert.equal(unit.modeOctal, '0640');
      assert.equal(unit.group, 'wheel');
      assert.equal(facts.files.socket!.exists, false);
      assert.equal(facts.files.etcDocker!.exists, false);
      assert.equal(facts.tls.ca!.exists, false);
      assert.equal(facts.tls.key!.exists, true);
      assert.deepEqual(facts.registryCerts, []);
      assert.deepEqual(collection.entities[0]?.locate?.('files.dockerService.mode'), { path: join(dir, 'units/docker.service') });
      assert.deepEqual(collection.entities[0]?.locate?.('tls.key.uid'), { path: join(dir, 'real.service') });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('takes TLS files from the daemon settings', () => {
    assert.deepEqual(tlsFilesFromSettings({ tlscacert: '/ca.pem', tlskey: '/key.pem', tlscert: '' }), { ca: '/ca.pem', key: '/key.pem' });
    assert.deepEqual(tlsFilesFromSettings(undefined), {});
  });
});
