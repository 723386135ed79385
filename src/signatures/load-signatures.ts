/**
 * Loading signatures: the built-in directory (data/signatures, found relative to this module so it works from src/
 * under tsx and from dist/ after tsc) followed by the user's directories. A file in a later directory with the same
 * path below its root replaces the earlier one (shadowing); entries merge by their id (sha256, keyword list id,
 * repository), later ones winning. Any invalid file aborts the load with a NomineError naming file and line.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NomineError, toNomineError } from '../core/errors.ts';
import { fileAnalyzers } from '../scan/analyzers/index.ts';
import { compileKeywordList } from './keyword-matcher.ts';
import { parsedFileCache } from './parsed-file-cache.ts';
import { parseSignatureFile } from './parse-signature-file.ts';
import type { FuzzyEntry, HashEntry, KeywordList, MinerImage, Signatures } from './signatures.ts';
import { signaturesFromBundle, type SignatureBundle } from './signature-bundle.ts';
import { yaraEngineVersion, type YaraSourceFile } from './yara-engine.ts';

export const builtinSignaturesDir = fileURLToPath(new URL('../../data/signatures/', import.meta.url));

/** Bumped when the meaning of a signature format changes without the files changing. */
const signatureFormatVersion = 'nomine-signatures 1';
/** A signature file larger than this is a mistake (a binary dropped in the directory), not a rule set. */
const maxSignatureFileBytes = 32 * 1024 * 1024;

const yaraExtensions = ['.yar', '.yara'];
const dataExtensions = ['.yaml', '.yml', '.json'];

interface FoundFile {
  /** Path below the directory root, with forward slashes: the shadowing key. */
  id: string;
  path: string;
}

function hasExtension(name: string, extensions: readonly string[]): boolean {
  const lower = name.toLowerCase();
  return extensions.some((ext) => lower.endsWith(ext));
}

async function listSignatureFiles(root: string): Promise<FoundFile[]> {
  const found: FoundFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue; // editor swap files, .git
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && hasExtension(entry.name, [...yaraExtensions, ...dataExtensions])) {
        found.push({ id: relative(root, path).split(sep).join('/'), path });
      }
    }
  };
  await walk(root);
  return found;
}

async function requireDirectory(dir: string): Promise<void> {
  let info;
  try {
    info = await stat(dir);
  } catch (error) {
    throw toNomineError(error, `signatures directory ${dir}`);
  }
  if (!info.isDirectory()) throw new NomineError('invalid-input', 'not a directory', `signatures directory ${dir}`);
}

async function readSignatureFile(path: string): Promise<string> {
  const info = await stat(path);
  if (info.size > maxSignatureFileBytes) {
    throw new NomineError('limit-exceeded', `signature file is larger than ${maxSignatureFileBytes} bytes`, path);
  }
  return readFile(path, 'utf8');
}

export interface LoadSignaturesOptions {
  /** Where parsed data files are kept by content (see parsed-file-cache.ts); without it, every file is parsed. */
  parsedCacheDir?: string;
}

export async function loadSignatures(userDirs: string[] = [], options: LoadSignaturesOptions = {}): Promise<Signatures> {
  const parsedCache = options.parsedCacheDir ? parsedFileCache(options.parsedCacheDir) : undefined;
  const byId = new Map<string, FoundFile>();
  for (const dir of [builtinSignaturesDir, ...userDirs]) {
    await requireDirectory(dir);
    for (const file of await listSignatureFiles(dir)) {
      byId.delete(file.id); // re-insert so a shadowing file takes the later place in load order
      byId.set(file.id, file);
    }
  }

  const digest = createHash('sha256');
  digest.update(`${signatureFormatVersion}\0${yaraEngineVersion()}\0`);
  for (const analyzer of Object.values(fileAnalyzers)) digest.update(`${analyzer.id}@${analyzer.version}\0`);

  const hashes = new Map<string, HashEntry>();
  const fuzzy: FuzzyEntry[] = [];
  const keywords = new Map<string, KeywordList>();
  const stratumPorts = new Set<number>();
  const minerImages = new Map<string, MinerImage>();
  const yaraFiles: YaraSourceFile[] = [];

  for (const file of byId.values()) {
    const content = await readSignatureFile(file.path);
    digest.update(`${file.id}\0${content.length}\0${content}\0`);
    if (hasExtension(file.path, yaraExtensions)) {
      yaraFiles.push({ id: file.id, path: file.path, text: content });
      continue;
    }
    let data = parsedCache?.get(content);
    if (!data) {
      data = parseSignatureFile(file.path, content);
      parsedCache?.set(content, data);
    }
    switch (data.kind) {
      case 'hashes':
        for (const entry of data.hashes) hashes.set(entry.sha256, { ...entry, source: file.path });
        for (const entry of data.fuzzy) fuzzy.push({ ...entry, source: file.path });
        break;
      case 'keywords':
        for (const list of data.lists) {
          keywords.delete(list.id);
          keywords.set(list.id, compileKeywordList(list, file.path));
        }
        for (const port of data.stratumPorts) stratumPorts.add(port);
        break;
      case 'miner-images':
        for (const image of data.images) minerImages.set(image.repository, { ...image, source: file.path });
        break;
    }
  }

  const bundle: SignatureBundle = {
    version: `sha256:${digest.digest('hex')}`,
    files: [...byId.values()].map((file) => file.path),
    hashes,
    fuzzy,
    keywords: [...keywords.values()],
    stratumPorts,
    minerImages,
    yaraFiles,
  };
  // The user's YARA files are compiled now, so a mistake in one fails the load rather than the scan; ours are
  // tested, and compiled when a file first needs them.
  const signatures = signaturesFromBundle(bundle, { buildNow: yaraFiles.some((file) => !file.path.startsWith(builtinSignaturesDir)) });
  loaded.set(bundle.version, bundle);
  if (loaded.size > maxLoaded) loaded.delete(loaded.keys().next().value!);
  return signatures;
}

/** What the signatures loaded lately were built from, by version: the scanner hands its workers the bundle. */
const loaded = new Map<string, SignatureBundle>();
const maxLoaded = 4;

/** What `loadSignatures` read for the signatures of `version`, if this process loaded them lately. */
export function loadedBundle(version: string): SignatureBundle | undefined {
  return loaded.get(version);
}

