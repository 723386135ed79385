import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { appendFile, copyFile, mkdtemp, readFile, readlink, rm, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createExeHasher } from './exe-hasher.ts';

const started: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nomine-exe-'));
  dirs.push(dir);
  return dir;
}

function sha256Of(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Starts `file args…` and resolves once the kernel runs it (exec done, so /proc/PID/exe names it). */
async function run(file: string, args: string[], argv0?: string): Promise<ChildProcess> {
  const child = spawn(file, args, { stdio: 'ignore', ...(argv0 ? { argv0 } : {}) });
  started.push(child);
  await once(child, 'spawn');
  return child;
}

async function waitForExe(pid: number, matches: (link: string) => boolean): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    const link = await readlink(`/proc/${pid}/exe`).catch(() => '');
    if (matches(link)) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`process ${pid} never ran the expected executable`);
}

describe('createExeHasher', () => {
  it('hashes the executable of a running process, even after its file was deleted', async () => {
    const dir = await tempDir();
    const copy = join(dir, 'sleeper');
    await copyFile('/bin/sleep', copy);
    const expected = sha256Of(await readFile(copy));
    const child = await run(copy, ['30']);
    await unlink(copy);

    const result = await createExeHasher().hash(child.pid!);
    assert.equal(result.sha256, expected);
    assert.equal(result.exe, copy);
    assert.equal(result.exeDeleted, true);
    assert.equal(result.hashError, undefined);
  });

  it('hashes an executable that only ever lived in a memfd', { skip: process.arch !== 'x64' && 'memfd_create syscall number is for x86-64' }, async () => {
    // perl calls memfd_create(2) (319 on x86-64), copies /bin/sleep into it and execs /proc/self/fd/N.
    const script =
      'my $name = "payload"; my $fd = syscall(319, $name, 0); die "memfd" if $fd < 0; open(my $out, ">&=", $fd) or die; ' +
      'open(my $in, "<", "/bin/sleep") or die; binmode $in; binmode $out; local $/; my $data = <$in>; print {$out} $data; close $in; $out->flush; ' +
      'exec {"/proc/self/fd/$fd"} "sleep", "30" or die';
    const child = await run('/usr/bin/perl', ['-e', script]);
    await waitForExe(child.pid!, (link) => link.startsWith('/memfd:'));

    const result = await createExeHasher().hash(child.pid!);
    assert.equal(result.exe, '/memfd:payload');
    assert.equal(result.exeDeleted, true);
    assert.equal(result.sha256, sha256Of(await readFile('/bin/sleep')));
  });

  it('reads a file once for many processes', async () => {
    const first = await run('/bin/sleep', ['30']);
    const second = await run('/bin/sleep', ['30']);
    const hasher = createExeHasher();

    const a = await hasher.hash(first.pid!);
    const b = await hasher.hash(second.pid!);
    assert.equal(a.sha256, b.sha256);
    assert.deepEqual({ reads: hasher.stats().reads, cacheHits: hasher.stats().cacheHits, cached: hasher.stats().cached }, { reads: 1, cacheHits: 1, cached: 1 });
  });

  it('shares one read between concurrent requests for the same file', async () => {
    const dir = await tempDir();
    const big = join(dir, 'big-sleeper');
    await copyFile('/bin/sleep', big);
    await appendFile(big, Buffer.alloc(16 * 1024 * 1024)); // long enough to read that the second request arrives meanwhile
    const first = await run(big, ['30']);
    const second = await run(big, ['30']);
    const hasher = createExeHasher();

    const [a, b] = await Promise.all([hasher.hash(first.pid!), hasher.hash(second.pid!)]);
    assert.equal(a.sha256, sha256Of(await readFile(big)));
    assert.equal(b.sha256, a.sha256);
    assert.deepEqual({ reads: hasher.stats().reads, sharedReads: hasher.stats().sharedReads }, { reads: 1, sharedReads: 1 });
  });

  it('rehashes a file rewritten in place (same inode, new size and mtime)', async () => {
    const dir = await tempDir();
    const copy = join(dir, 'sleeper');
    await copyFile('/bin/sleep', copy);
    const hasher = createExeHasher();

    const before = await run(copy, ['30']);
    const original = await hasher.hash(before.pid!);
    before.kill('SIGKILL');
    await once(before, 'exit');

    const inode = (await stat(copy)).ino;
    await appendFile(copy, Buffer.from('trailing bytes the loader ignores'));
    assert.equal((await stat(copy)).ino, inode);
    const after = await run(copy, ['30']);
    const rewritten = await hasher.hash(after.pid!);

    assert.notEqual(rewritten.sha256, original.sha256);
    assert.equal(rewritten.sha256, sha256Of(await readFile(copy)));
    assert.equal(hasher.stats().reads, 2);
    assert.equal(hasher.stats().cacheHits, 0);
  });

  it('forgets the least recently used hash beyond its limit', async () => {
    const dir = await tempDir();
    const hasher = createExeHasher({ maxEntries: 1 });
    const pids: number[] = [];
    for (const name of ['one', 'two']) {
      await copyFile('/bin/sleep', join(dir, name));
      await appendFile(join(dir, name), name); // distinct content, distinct files
      pids.push((await run(join(dir, name), ['30'])).pid!);
    }
    await hasher.hash(pids[0]!);
    await hasher.hash(pids[1]!);
    await hasher.hash(pids[0]!);
    assert.deepEqual({ reads: hasher.stats().reads, cached: hasher.stats().cached }, { reads: 3, cached: 1 });
  });

  it('says the process exited when it is gone before it could be read', async () => {
    const child = await run('/bin/true', []);
    await once(child, 'exit');
    assert.deepEqual(await createExeHasher().hash(child.pid!), { hashError: 'process exited' });
  });

  it('does not read an executable over the size limit', async () => {
    const child = await run('/bin/sleep', ['30']);
    const hasher = createExeHasher({ maxBytes: 1000 });
    const result = await hasher.hash(child.pid!);
    assert.equal(result.hashError, 'too large');
    assert.equal(result.exe, '/usr/bin/sleep');
    assert.equal(result.sha256, undefined);
    assert.equal(hasher.stats().reads, 0);
  });

  it('tells a kernel thread from an exited process, and refuses nonsense pids', async () => {
    const kthreadd = await createExeHasher().hash(2);
    assert.notEqual(kthreadd.hashError, 'process exited');
    assert.equal(kthreadd.sha256, undefined);
    assert.deepEqual(await createExeHasher().hash(-1), { hashError: 'invalid pid' });
    assert.deepEqual(await createExeHasher().hash(1.5), { hashError: 'invalid pid' });
  });
});
