import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { processCommands } from './docker-container.ts';
import { collectDockerHostFiles } from './docker-host-files.ts';
import { auditRuleFacts, dataRootFacts, parseAuditWatches, parseMountPoints } from './docker-host-system.ts';

const mountinfo = [
  '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
  '30 22 8:2 / /var/lib/docker rw,relatime shared:2 - xfs /dev/sda2 rw',
  '31 22 8:3 / /srv/my\\040data rw,relatime shared:3 - ext4 /dev/sda3 rw',
  '',
].join('\n');

describe('docker host system facts', () => {
  it('reads mount points, unescaping mountinfo', () => {
    assert.deepEqual(parseMountPoints(mountinfo), ['/', '/var/lib/docker', '/srv/my data']);
  });

  it('says whether the data root is a mount point, and which mount holds it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nomine-host-system-'));
    try {
      await writeFile(join(dir, 'mountinfo'), mountinfo);
      assert.deepEqual(await dataRootFacts('/var/lib/docker/', join(dir, 'mountinfo')), { path: '/var/lib/docker/', isMountPoint: true, mountPoint: '/var/lib/docker' });
      assert.deepEqual(await dataRootFacts('/srv/my data/docker', join(dir, 'mountinfo')), { path: '/srv/my data/docker', isMountPoint: false, mountPoint: '/srv/my data' });
      assert.deepEqual(await dataRootFacts('/var/lib/dockerx', join(dir, 'mountinfo')), { path: '/var/lib/dockerx', isMountPoint: false, mountPoint: '/' });
      const missing = await dataRootFacts('/var/lib/docker', join(dir, 'nope'));
      assert.equal(missing.isMountPoint, undefined);
      assert.match(missing.error ?? '', /cannot read/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('parses -w watches and -F path=/dir= rules, ignoring comments', () => {
    const rules = '# -w /etc/shadow\n-w /usr/bin/dockerd -k docker\n-w /etc/docker/ -p wa\n-a always,exit -F path=/usr/sbin/runc -F perm=wa -k docker\n-a always,exit -F dir=/var/lib/docker -k d\n-w /run/containerd # trailing\n';
    assert.deepEqual(parseAuditWatches(rules), ['/usr/bin/dockerd', '/etc/docker', '/usr/sbin/runc', '/var/lib/docker', '/run/containerd']);
  });

  it('reads audit.rules and rules.d/*.rules; no files at all is not configured', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nomine-auditd-'));
    try {
      assert.deepEqual(await auditRuleFacts(join(dir, 'audit')), { configured: false, files: [], watched: [] });
      await mkdir(join(dir, 'audit/rules.d'), { recursive: true });
      await writeFile(join(dir, 'audit/rules.d/docker.rules'), '-w /usr/bin/dockerd -k docker\n');
      await writeFile(join(dir, 'audit/rules.d/notes.txt'), '-w /etc/passwd\n');
      await writeFile(join(dir, 'audit/audit.rules'), '-w /etc/docker -k docker\n');
      const facts = await auditRuleFacts(join(dir, 'audit'));
      assert.equal(facts.configured, true);
      assert.deepEqual(facts.files, [join(dir, 'audit/audit.rules'), join(dir, 'audit/rules.d/docker.rules')]);
      assert.deepEqual(facts.watched, ['/etc/docker', '/usr/bin/dockerd']);

      await writeFile(join(dir, 'mountinfo'), mountinfo);
      const collection = await collectDockerHostFiles({ unitDirs: [join(dir, 'units')], etcDocker: join(dir, 'etc-docker'), groupFile: join(dir, 'group'), socket: join(dir, 'sock'), auditDir: join(dir, 'audit'), mountinfo: join(dir, 'mountinfo'), dataRoot: '/var/lib/docker' });
      const entity = collection.entities[0]!;
      assert.deepEqual((entity.facts.dataRoot as { isMountPoint: boolean }).isMountPoint, true);
      assert.deepEqual((entity.facts.auditRules as { watched: string[] }).watched, ['/etc/docker', '/usr/bin/dockerd']);
      assert.deepEqual(entity.locate?.('auditRules.watched'), { path: join(dir, 'audit/audit.rules') });
      assert.deepEqual(entity.locate?.('dataRoot.isMountPoint'), { path: join(dir, 'mountinfo') });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('takes the command column of /containers/{id}/top', () => {
    assert.deepEqual(processCommands({ Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'], Processes: [['root', '1', '0', '0', '01:00', '?', '00:00:00', 'sshd 300']] }), ['sshd 300']);
    assert.deepEqual(processCommands({ Titles: ['PID', 'USER', 'TIME', 'COMMAND'], Processes: [['1', 'root', '0:00', '/usr/sbin/sshd -D']] }), ['/usr/sbin/sshd -D']);
    assert.deepEqual(processCommands({ Titles: null, Processes: null }), []);
  });
});
