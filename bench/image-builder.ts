/**
 * The benchmark image: a `docker save` (legacy docker-archive) tarball of several layers and tens of thousands of
 * files, with miner fixtures planted in some layers (one of them deleted again by a later layer's whiteout), plus
 * a gzip variant of the same layers. Built once per size into the work dir and reused: generation costs minutes.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FixtureSet } from '../test/helpers/fixtures.ts';
import { loadBinaryPool, mutatedCopy, randomBytesSeeded, seededRandom, textCorpus } from './content-mix.ts';
import { TarWriter } from './tar-writer.ts';

/** Bump when the image recipe changes, so a cached image of the old recipe is not reused. */
const IMAGE_VERSION = 2;
const LAYER_WEIGHTS = [0.3, 0.25, 0.15, 0.12, 0.1, 0.08];
/** Share of bytes per kind of content; text files are small, so they make up most of the file count. */
const BYTE_SHARE = { binary: 0.55, text: 0.25, random: 0.2 };
/** Mean sizes of the generators below, to turn byte shares into per-file odds. */
const MEAN_TEXT = 512 + (16 * 1024) / 3;
const MEAN_RANDOM = 64 * 1024 + (4 * 1024 * 1024) / 3;

/** Per-file odds of each kind such that, on average, the bytes split as BYTE_SHARE says. */
function fileOdds(meanBinary: number): { binary: number; text: number } {
  const b = BYTE_SHARE.binary / meanBinary;
  const t = BYTE_SHARE.text / MEAN_TEXT;
  const r = BYTE_SHARE.random / MEAN_RANDOM;
  return { binary: b / (b + t + r), text: t / (b + t + r) };
}

export interface PlantedMiner {
  /** Path inside the image, without a leading slash. */
  path: string;
  layer: number;
  fixture: string;
  family: string;
  disguise: string;
  /** Deleted by a whiteout in a later layer: present in the layer bytes, absent from the final filesystem. */
  deleted: boolean;
}

export interface BenchImage {
  dir: string;
  /** docker-archive with uncompressed `<id>/layer.tar` members, as `docker save` writes them. */
  archive: string;
  /** The same image with gzip layers (`<id>/layer.tar.gz`). */
  gzipArchive: string;
  gzipLayers: string[];
  layerBytes: number;
  gzipBytes: number;
  files: number;
  layers: number;
  planted: PlantedMiner[];
}

/** Where each fixture goes: [layer, path in image, fixture name]; the first is whited out in layer 4. */
const PLANTS: [number, string, string][] = [
  [1, 'usr/local/bin/xmrig', 'randomx-miner'],
  [2, 'usr/sbin/kswapd0', 'kswapd0'],
  [2, 'var/www/html/js/analytics.min.js', 'analytics.min.js'],
  [2, 'var/www/html/js/cn.wasm', 'cn.wasm'],
  [3, 'usr/lib/php/php-fpm-pool', 'php-fpm-pool'],
  [3, 'opt/app/bin/app-update', 'app-update'],
  [5, 'tmp/.ICE-unix/sshd', 'sha256d-miner.static'],
  [5, 'usr/lib/x86_64-linux-gnu/libnss_dns.so.3', 'sha256d-miner.stripped'],
  [5, 'usr/bin/sha256d-miner', 'sha256d-miner'],
];
const WHITEOUT: [number, string] = [4, 'usr/local/bin/.wh.xmrig'];

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function gzipFile(source: string, target: string): Promise<void> {
  // gzip -1: compression level changes build time a lot and decompression speed very little.
  const child = spawn('gzip', ['-1', '-c'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const done = new Promise<void>((resolve, reject) =>
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`gzip exited ${code}`)))),
  );
  await Promise.all([pipeline(createReadStream(source), child.stdin), pipeline(child.stdout, createWriteStream(target)), done]);
}

interface LayerPlan {
  budget: number;
  index: number;
}

function writeLayer(
  path: string,
  plan: LayerPlan,
  pool: { name: string; bytes: Buffer }[],
  corpus: Buffer,
  fixtures: FixtureSet,
  planted: PlantedMiner[],
): { digest: string; bytes: number; files: number } {
  const tar = new TarWriter(path);
  const random = seededRandom(1000 + plan.index);
  const byName = new Map(fixtures.miners.map((m) => [m.name, m]));
  const appDaemon = fixtures.benign.find((b) => b.name === 'kv-daemon');
  if (plan.index === 3 && appDaemon) tar.addFile('opt/app/bin/kv-daemon', readFileSync(appDaemon.path), 0o755);
  for (const [layer, target, name] of PLANTS) {
    const fixture = byName.get(name);
    if (layer !== plan.index || !fixture) continue;
    tar.addFile(target, readFileSync(fixture.path), fixture.kind === 'elf' ? 0o755 : 0o644);
    planted.push({ path: target, layer, fixture: name, family: fixture.family, disguise: fixture.disguise, deleted: false });
  }
  if (WHITEOUT[0] === plan.index) tar.addFile(WHITEOUT[1], Buffer.alloc(0));

  const odds = fileOdds(pool.reduce((sum, p) => sum + p.bytes.length, 0) / pool.length);
  let written = 0;
  let n = 0;
  while (written < plan.budget) {
    const pick = random();
    const dir = `pkg${plan.index}-${Math.floor(n / 200)}`;
    let content: Buffer;
    let entry: string;
    let mode = 0o644;
    if (pick < odds.binary) {
      const original = pool[Math.floor(random() * pool.length)]!;
      content = mutatedCopy(original.bytes, n);
      entry = `usr/lib/bench/${dir}/${original.name}.${n}`;
      mode = 0o755;
    } else if (pick < odds.binary + odds.text) {
      const length = 512 + Math.floor(random() * random() * 16 * 1024);
      const start = Math.floor(random() * (corpus.length - length));
      content = Buffer.concat([Buffer.from(`# file ${plan.index}/${n}\n`), corpus.subarray(start, start + length)]);
      entry = `usr/share/bench/${dir}/doc-${n}.${['conf', 'txt', 'log', 'js', 'py'][n % 5]}`;
    } else {
      content = randomBytesSeeded(64 * 1024 + Math.floor(random() * random() * 4 * 1024 * 1024), plan.index * 1_000_003 + n);
      entry = `var/lib/bench/${dir}/blob-${n}.bin`;
    }
    tar.addFile(entry, content, mode);
    written += content.length + 512;
    n++;
  }
  const { digest, bytes } = tar.finish();
  return { digest, bytes, files: tar.files };
}

function writeArchive(target: string, diffIds: string[], layerFiles: string[], memberName: string): void {
  const config = {
    architecture: 'amd64',
    os: 'linux',
    created: '2024-05-01T00:00:00Z',
    config: { Cmd: ['/opt/app/bin/kv-daemon', '--listen', '8080'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map((_, i) => ({ created: '2024-05-01T00:00:00Z', created_by: `/bin/sh -c #(nop) bench layer ${i}` })),
  };
  const configJson = JSON.stringify(config);
  const configName = `${sha256(configJson)}.json`;
  const tar = new TarWriter(target);
  tar.addFile(configName, Buffer.from(configJson));
  const layerPaths: string[] = [];
  let parent = '';
  diffIds.forEach((diffId, i) => {
    // Legacy v1 layer ids chain over the parent, as docker save computes them.
    const id = sha256(`${parent}\n${diffId}\n${memberName}`);
    tar.addFile(`${id}/VERSION`, Buffer.from('1.0'));
    tar.addFile(`${id}/json`, Buffer.from(JSON.stringify({ id, ...(parent ? { parent } : {}), created: config.created })));
    tar.addFileFromPath(`${id}/${memberName}`, layerFiles[i]!);
    layerPaths.push(`${id}/${memberName}`);
    parent = id;
  });
  tar.addFile('manifest.json', Buffer.from(JSON.stringify([{ Config: configName, RepoTags: ['nomine-bench:latest'], Layers: layerPaths }])));
  tar.addFile('repositories', Buffer.from(JSON.stringify({ 'nomine-bench': { latest: parent } })));
  tar.finish();
}

export async function buildBenchImage(
  workDir: string,
  sizeGb: number,
  fixtures: FixtureSet,
  log: (message: string) => void,
): Promise<BenchImage> {
  const dir = join(workDir, `image-${sizeGb}gb-v${IMAGE_VERSION}`);
  const metaPath = join(dir, 'image.json');
  if (existsSync(metaPath)) {
    log(`reusing image in ${dir}`);
    return JSON.parse(readFileSync(metaPath, 'utf8')) as BenchImage;
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'layers'), { recursive: true });
  mkdirSync(join(dir, 'layers-gz'), { recursive: true });
  const total = sizeGb * 1024 ** 3;
  log('loading the binary pool and the text corpus');
  const pool = loadBinaryPool(Math.min(256 * 1024 **2, total / 4));
  const corpus = textCorpus(8 * 1024 ** 2, seededRandom(7));
  const planted: PlantedMiner[] = [];
  const diffIds: string[] = [];
  const rawLayers: string[] = [];
  const gzipLayers: string[] = [];
  const gzipJobs: Promise<void>[] = [];
  let layerBytes = 0;
  let files = 0;
  for (const [index, weight] of LAYER_WEIGHTS.entries()) {
    const raw = join(dir, 'layers', `${index}.tar`);
    const started = Date.now();
    const layer = writeLayer(raw, { budget: total * weight, index }, pool, corpus, fixtures, planted);
    log(`layer ${index}: ${(layer.bytes / 1024 ** 2).toFixed(0)} MiB, ${layer.files} files in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    diffIds.push(layer.digest);
    rawLayers.push(raw);
    layerBytes += layer.bytes;
    files += layer.files;
    const gz = join(dir, 'layers-gz', `${index}.tar.gz`);
    gzipLayers.push(gz);
    gzipJobs.push(gzipFile(raw, gz)); // overlaps with generating the next layer
  }
  for (const p of planted) if (`${p.path.replace(/[^/]+$/, '')}.wh.${p.path.split('/').pop()}` === WHITEOUT[1]) p.deleted = true;
  log('waiting for gzip');
  await Promise.all(gzipJobs);
  log('assembling docker-archive tarballs');
  const archive = join(dir, 'image.tar');
  const gzipArchive = join(dir, 'image-gzip.tar');
  writeArchive(archive, diffIds, rawLayers, 'layer.tar');
  writeArchive(gzipArchive, diffIds, gzipLayers, 'layer.tar.gz');
  for (const raw of rawLayers) rmSync(raw); // image.tar holds them; keeping both doubles the disk footprint
  const gzipBytes = gzipLayers.reduce((sum, path) => sum + statSync(path).size, 0);
  const image: BenchImage = { dir, archive, gzipArchive, gzipLayers, layerBytes, gzipBytes, files, layers: LAYER_WEIGHTS.length, planted };
  writeFileSync(metaPath, JSON.stringify(image, null, 2));
  return image;
}
