import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntityChange } from '../entity.ts';
import { createContainerdRuntime, entityFromTask, parseInitPid, taskDirectoryName } from './containerd-runtime.ts';
import type { RuntimeStatus } from './runtime.ts';

/** A live process to stand in for a task's init: the test runner itself. */
const livePid = process.pid;
const ownMntns = Number(/\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/mnt'))![1]);
const ownPidns = Number(/\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))![1]);

function spec(annotations?: unknown, extra: Record<string, unknown> = {}) {
  return JSON.stringify({ ociVersion: '1.0.2-dev', process: { args: ['sleep', '600'], cwd: '/' }, root: { path: 'rootfs' }, ...(annotations !== undefined ? { annotations } : {}), ...extra });
}

const criAnnotations = {
  'io.kubernetes.cri.container-type': 'container',
  'io.kubernetes.cri.sandbox-name': 'fluent-bit-8ztlx',
  'io.kubernetes.cri.sandbox-namespace': 'logging',
  'io.kubernetes.cri.container-name': 'fluent-bit',
  'io.kubernetes.cri.image-name': 'docker.io/fluent/fluent-bit:2.2',
};

describe('containerd runtime', () => {
  let root: string;
  const hex = (n: number) => n.toString(16).padStart(64, '0');

  async function task(namespace: string, id: string, config: string | undefined, pid: string | undefined) {
    const dir = join(root, taskDirectoryName, namespace, id);
    await mkdir(dir, { recursive: true });
    if (config !== undefined) await writeFile(join(dir, 'config.json'), config);
    if (pid !== undefined) await writeFile(join(dir, 'init.pid'), pid);
    return dir;
  }

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'nomine-containerd-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('lists a Docker-managed task (namespace moby) with the namespaces of its init process', async () => {
    await task('moby', hex(1), spec(), String(livePid));
    const problems: string[] = [];
    const runtime = createContainerdRuntime({ roots: [root], onProblem: (p) => problems.push(p) });
    const [entity] = await runtime.list();
    assert.equal(entity?.id, hex(1));
    assert.equal(entity?.name, hex(1).slice(0, 12));
    assert.equal(entity?.runtime, 'containerd');
    assert.equal(entity?.namespace, 'moby');
    assert.equal(entity?.pid, livePid);
    assert.equal(entity?.mntns, ownMntns);
    assert.equal(entity?.pidns, ownPidns);
    assert.ok(entity?.startedAt && Math.abs(entity.startedAt - Date.now()) < 60_000);
    assert.deepEqual(problems, []);
  });

  it('reads CRI annotations into Kubernetes metadata and leaves pod sandboxes out', async () => {
    await task('k8s.io', hex(2), spec(criAnnotations), `${livePid}\n`);
    await task('k8s.io', hex(3), spec({ ...criAnnotations, 'io.kubernetes.cri.container-type': 'sandbox' }), String(livePid));
    const runtime = createContainerdRuntime({ roots: [root] });
    const entities = await runtime.list();
    assert.deepEqual(entities.map((e) => e.id), [hex(2)]);
    assert.equal(entities[0]!.name, 'fluent-bit');
    assert.equal(entities[0]!.image, 'docker.io/fluent/fluent-bit:2.2');
    assert.deepEqual(entities[0]!.kubernetes, { namespace: 'logging', pod: 'fluent-bit-8ztlx', container: 'fluent-bit', workload: { kind: 'DaemonSet', name: 'fluent-bit' } });
    assert.equal(entities[0]!.labels['io.kubernetes.cri.sandbox-name'], 'fluent-bit-8ztlx');
    const filtered = createContainerdRuntime({ roots: [root], namespaces: ['moby'] });
    assert.deepEqual(await filtered.list(), []);
  });

  it('skips hostile bundles with one problem each and still lists the good task', async () => {
    const ns = 'hostile';
    await task(ns, 'good', spec(), String(livePid));
    await task(ns, 'huge', `{"ociVersion":"1","pad":"${'x'.repeat(5000)}"}`, String(livePid));
    await task(ns, 'notjson', '{"ociVersion": "1.0", "process": {', String(livePid));
    await task(ns, 'array', '[1,2,3]', String(livePid));
    await task(ns, 'noversion', '{"process":{}}', String(livePid));
    await task(ns, 'annotations-list', spec(['a', 'b']), String(livePid));
    await task(ns, 'annotation-number', spec({ 'io.kubernetes.cri.sandbox-name': 42 }), String(livePid));
    await task(ns, 'args-string', spec(undefined, { process: { args: 'sleep 600' } }), String(livePid));
    await task(ns, 'pid-garbage', spec(), 'abc');
    await task(ns, 'pid-negative', spec(), '-1');
    await task(ns, 'pid-huge', spec(), '99999999999');
    await task(ns, 'pid-two', spec(), '12 34');
    await task(ns, 'pid-binary', spec(), '\0\0\xff\xfe');
    const zeroDir = await task(ns, 'zero-link', undefined, String(livePid));
    await symlink('/dev/zero', join(zeroDir, 'config.json'));
    const fifoDir = await task(ns, 'fifo', undefined, String(livePid));
    execFileSync('mkfifo', [join(fifoDir, 'config.json')]);
    await task(ns, 'bad..id', spec(), String(livePid));
    const problems: string[] = [];
    const runtime = createContainerdRuntime({ roots: [root], maxConfigBytes: 4096, onProblem: (p) => problems.push(p) });
    const started = Date.now();
    const entities = await runtime.list();
    assert.ok(Date.now() - started < 2_000, 'a FIFO or /dev/zero must not hang the scan');
    assert.deepEqual(entities.map((e) => e.id), ['good']);
    const skipped = ['huge', 'notjson', 'array', 'noversion', 'annotations-list', 'annotation-number', 'args-string', 'pid-garbage', 'pid-negative', 'pid-huge', 'pid-two', 'pid-binary', 'zero-link', 'fifo', 'bad..id'];
    for (const name of skipped) assert.equal(problems.filter((p) => p.includes(`${ns}/${name}:`) || p.includes(`${ns}/${name} `)).length, 1, `${name}: ${problems.join('\n')}`);
    assert.match(problems.find((p) => p.includes('hostile/huge:'))!, /more than the 4096/);
    // A second scan does not repeat problems with unchanged files.
    await runtime.list();
    assert.equal(problems.length, skipped.length);
  });

  it('skips quietly a task not started yet and one whose process is gone', async () => {
    await task('moby', hex(4), spec(), undefined);
    await task('moby', hex(5), spec(), '');
    await task('moby', hex(6), spec(), '4194303'); // almost surely no such process
    const problems: string[] = [];
    const runtime = createContainerdRuntime({ roots: [root], onProblem: (p) => problems.push(p) });
    assert.deepEqual(await runtime.list(), []);
    assert.deepEqual(problems, []);
  });

  it('follows containerd and its tasks appearing and disappearing, reporting problems as status', async () => {
    const controller = new AbortController();
    const changes: EntityChange[] = [];
    const statuses: RuntimeStatus[] = [];
    const runtime = createContainerdRuntime({ roots: [root, root], pollIntervalMs: 20 });
    const watching = runtime.watch((c) => changes.push(c), (s) => statuses.push(s), controller.signal);
    const waitFor = async (predicate: () => boolean) => {
      for (let i = 0; i < 100 && !predicate(); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.ok(predicate());
    };
    await waitFor(() => statuses.some((s) => s.kind === 'disconnected'));
    await mkdir(join(root, taskDirectoryName)); // containerd started
    await waitFor(() => statuses.some((s) => s.kind === 'connected'));
    const dir = await task('moby', hex(7), spec(), String(livePid));
    await waitFor(() => changes.some((c) => c.type === 'start'));
    assert.equal(changes.filter((c) => c.type === 'start').length, 1, 'the same root given twice is read once');
    await task('moby', hex(8), 'garbage', String(livePid));
    await waitFor(() => statuses.some((s) => s.kind === 'error'));
    assert.match(statuses.find((s) => s.kind === 'error')!.message, /not JSON/);
    await rm(dir, { recursive: true });
    await waitFor(() => changes.some((c) => c.type === 'stop'));
    assert.deepEqual(changes.at(-1), { type: 'stop', entityId: hex(7), at: (changes.at(-1) as { at: number }).at });
    assert.equal(statuses.filter((s) => s.kind === 'error').length, 1, 'the bad task is reported once, not every poll');
    controller.abort();
    await watching;
  });

  it('reports a missing state directory as unreachable and as disconnected while watching', async () => {
    const runtime = createContainerdRuntime({ roots: [join(root, 'nope')], pollIntervalMs: 10 });
    await assert.rejects(runtime.list(), { code: 'unreachable' });
    const controller = new AbortController();
    const statuses: RuntimeStatus[] = [];
    const watching = runtime.watch(() => undefined, (s) => statuses.push(s), controller.signal);
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    await watching;
    assert.deepEqual(statuses.map((s) => s.kind), ['disconnected']);
  });

  it('finds one task by id prefix for a refresh', async () => {
    await task('moby', hex(9), spec(), String(livePid));
    const runtime = createContainerdRuntime({ roots: [root] });
    assert.equal((await runtime.inspect!(hex(9).slice(0, 12)))?.id, hex(9));
    assert.equal(await runtime.inspect!('0000'), undefined);
  });
});

describe('parseInitPid and entityFromTask', () => {
  it('accepts only a decimal pid in range', () => {
    assert.equal(parseInitPid('27408\n'), 27408);
    for (const text of ['', '0', '-3', '1e3', '0x10', '4194305', '12 34', 'NaN', ' '.repeat(10)]) assert.equal(parseInitPid(text), undefined, text);
  });

  it('names what is wrong with a spec', () => {
    const base = { id: 'x', namespace: 'default', pid: 5 };
    assert.deepEqual(entityFromTask({ ...base, config: null }), { problem: 'config.json is not a JSON object' });
    assert.ok('problem' in entityFromTask({ ...base, config: { ociVersion: 1 } }));
    assert.ok('entity' in entityFromTask({ ...base, config: { ociVersion: '1.1.0', unknownNewField: { deep: [1] } } }));
  });
});
