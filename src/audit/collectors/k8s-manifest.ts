/**
 * Kubernetes manifests: files (or directories of *.yaml, *.yml, *.json) of one or more YAML documents, each
 * classified by kind into a workload, a kubelet config or a control-plane static pod entity. Hostile input is
 * bounded and reported, never fatal: a file too large, too many documents, invalid YAML, a document that is not a
 * mapping, an unknown kind — each is an error result at its file and line, and the other documents still count.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { LineCounter, parseAllDocuments } from 'yaml';
import { toNomineError } from '../../core/errors.ts';
import { emptyCollection, type Collection } from '../audit-entity.ts';
import { listYamlFiles } from '../load-checks.ts';
import { controlPlaneComponents, nonWorkloadKinds, workloadTemplatePaths } from './k8s-kinds.ts';
import { isKubeletConfig, kubeletConfigFacts } from './kubelet-config.ts';
import { staticPodFacts } from './k8s-static-pod.ts';
import { workloadFacts } from './k8s-workload.ts';
import { yamlLocator, type SourcePath } from './yaml-locator.ts';

export interface ManifestLimits {
  /** Bytes of one manifest file read. */
  maxManifestBytes: number;
  /** Documents in one file. */
  maxDocuments: number;
  /** YAML aliases expanded per document: the billion-laughs guard. */
  maxAliasCount: number;
}

export const defaultManifestLimits: ManifestLimits = { maxManifestBytes: 8 * 1024 * 1024, maxDocuments: 1_000, maxAliasCount: 100 };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeObject(document: Record<string, unknown>): string {
  const metadata = isRecord(document.metadata) ? document.metadata : {};
  const name = typeof metadata.name === 'string' ? metadata.name : '(unnamed)';
  const namespace = typeof metadata.namespace === 'string' ? `${metadata.namespace}/` : '';
  return `${String(document.kind)} ${namespace}${name}`;
}

/** One file's text as entities; `file` names it in evidence. Pure apart from its arguments. */
export function collectManifestText(text: string, file: string, limits: ManifestLimits = defaultManifestLimits): Collection {
  const collection = emptyCollection();
  const counter = new LineCounter();
  let documents;
  try {
    documents = parseAllDocuments(text, { lineCounter: counter, prettyErrors: false });
  } catch (error) {
    collection.errors.push({ kind: 'manifest', name: file, code: 'invalid-input', message: `not valid YAML: ${(error as Error).message}`, location: { path: file } });
    return collection;
  }
  const list = Array.isArray(documents) ? documents : [];
  if (list.length > limits.maxDocuments) {
    collection.errors.push({ kind: 'manifest', name: file, code: 'limit-exceeded', message: `${list.length} documents; only the first ${limits.maxDocuments} are audited`, location: { path: file } });
  }
  for (const [index, document] of list.slice(0, limits.maxDocuments).entries()) {
    const name = `${file}#${index + 1}`;
    // The document's own range starts at its `---`; its first node is the line a person looks for.
    const startLine = counter.linePos(document.contents?.range?.[0] ?? document.range[0]).line;
    const at = { path: file, line: startLine };
    const firstError = document.errors[0];
    if (firstError) {
      const line = firstError.linePos?.[0]?.line ?? startLine;
      collection.errors.push({ kind: 'manifest', name, code: 'invalid-input', message: `not valid YAML: ${firstError.message.split('\n')[0]}`, location: { path: file, line } });
      continue;
    }
    let value: unknown;
    try {
      value = document.toJS({ maxAliasCount: limits.maxAliasCount });
    } catch (error) {
      collection.errors.push({ kind: 'manifest', name, code: 'limit-exceeded', message: (error as Error).message, location: at });
      continue;
    }
    if (value === null || value === undefined) continue; // an empty document (a trailing `---`) is not a mistake
    if (!isRecord(value)) {
      collection.errors.push({ kind: 'manifest', name, code: 'invalid-input', message: `document is a ${Array.isArray(value) ? 'list' : typeof value}, not a Kubernetes object`, location: at });
      continue;
    }
    const locate = yamlLocator(document, counter, file);
    const placed = (toDocumentPath: (field: string) => SourcePath) => (field: string) => locate(toDocumentPath(field));
    if (typeof value.kind !== 'string' || value.kind === '') {
      collection.errors.push({ kind: 'manifest', name, code: 'invalid-input', message: 'document has no kind', location: at });
      continue;
    }
    const label = `${name} ${describeObject(value)}`;
    if (isKubeletConfig(value)) {
      const { facts, toDocumentPath } = kubeletConfigFacts(value);
      collection.entities.push({ target: 'k8s.kubelet', kind: 'file', name: label, facts, locate: placed(toDocumentPath) });
      continue;
    }
    if (value.kind === 'Pod') {
      const staticPod = staticPodFacts(value);
      if (staticPod) {
        collection.entities.push({ target: controlPlaneComponents[staticPod.component], kind: 'manifest', name: label, facts: staticPod.facts, locate: placed(staticPod.toDocumentPath) });
        continue;
      }
    }
    const templatePath = workloadTemplatePaths[value.kind];
    if (templatePath) {
      const { facts, toDocumentPath } = workloadFacts(value, templatePath);
      collection.entities.push({ target: 'k8s.workload', kind: 'manifest', name: label, facts, locate: placed(toDocumentPath) });
      continue;
    }
    if (value.kind === 'List' && Array.isArray(value.items)) {
      collection.errors.push({ kind: 'manifest', name: label, code: 'unsupported', message: 'kind List is not audited yet: split it into documents', location: at });
      continue;
    }
    if (nonWorkloadKinds.has(value.kind)) {
      collection.skipped.push({ name: label, reason: `kind ${value.kind} runs no pods` });
      continue;
    }
    collection.errors.push({ kind: 'manifest', name: label, code: 'unsupported', message: `unknown kind ${JSON.stringify(value.kind)}: not audited`, location: at });
  }
  return collection;
}

/** Files and directories (recursively, *.yaml / *.yml / *.json) into one collection. */
export async function collectManifestPaths(paths: readonly string[], limits: ManifestLimits = defaultManifestLimits): Promise<Collection> {
  const collection = emptyCollection();
  const add = (part: Collection) => {
    collection.entities.push(...part.entities);
    collection.errors.push(...part.errors);
    collection.skipped.push(...part.skipped);
  };
  for (const path of paths) {
    let files: string[];
    try {
      const info = await stat(path);
      files = info.isDirectory() ? [...(await listYamlFiles(path)), ...(await listJsonFiles(path))] : [path];
    } catch (error) {
      const failure = toNomineError(error);
      collection.errors.push({ kind: 'file', name: path, code: failure.code, message: failure.message, location: { path } });
      continue;
    }
    for (const file of files) {
      try {
        const info = await stat(file);
        if (info.size > limits.maxManifestBytes) {
          collection.errors.push({ kind: 'file', name: file, code: 'limit-exceeded', message: `file is ${info.size} bytes, more than the ${limits.maxManifestBytes} audited`, location: { path: file } });
          continue;
        }
        add(collectManifestText(await readFile(file, 'utf8'), file, limits));
      } catch (error) {
        const failure = toNomineError(error);
        collection.errors.push({ kind: 'file', name: file, code: failure.code, message: failure.message, location: { path: file } });
      }
    }
  }
  return collection;
}

async function listJsonFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile() && entry.name.endsWith('.json')).map((entry) => `${entry.parentPath}/${entry.name}`).sort();
}
