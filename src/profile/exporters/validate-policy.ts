/**
 * Policy validation: checks an exported policy against the published schema of its format, vendored under
 * data/schemas (see the README there for sources and versions): Kubernetes' NetworkPolicy JSON schema, the
 * KubeArmorPolicy and TracingPolicy CRDs' openAPIV3Schema, Falco's rules-file schema, and a seccomp schema written
 * from the Go types that read profiles (none is published). On top of the schemas it checks what the API server
 * checks and a CRD schema cannot say — group/version/kind, object names, label syntax. AppArmor has no schema: its
 * profiles are checked structurally here and, where Debian's apparmor package is installed, by apparmor_parser in
 * the tests.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { parseAllDocuments } from 'yaml';
import type { PolicyFormat } from './exporters.ts';
import { isDnsLabel, isDnsSubdomain, isLabelKey, isLabelValue } from './kubernetes-name.ts';

export const schemaDirectory = new URL('../../../data/schemas/', import.meta.url);

export interface PolicyValidation {
  valid: boolean;
  errors: string[];
}

type SchemaFormat = Exclude<PolicyFormat, 'apparmor'>;

const schemaSources: Record<SchemaFormat, () => object> = {
  seccomp: () => readJson('seccomp-profile.schema.json'),
  // The schema names `http://json-schema.org/schema#` (whatever draft is newest), which Ajv does not resolve; the
  // schema uses only draft-07 keywords, so it is compiled as draft-07.
  networkpolicy: () => withoutSchemaKeyword(readJson('networkpolicy-networking-v1.json')),
  kubearmor: () => crdSchema('kubearmorpolicy-crd.yaml'),
  tetragon: () => crdSchema('tracingpolicy-crd.yaml'),
  falco: () => readJson('falco-rules.schema.json'),
};

const expectedKinds: Partial<Record<SchemaFormat, { apiVersion: string; kinds: string[] }>> = {
  networkpolicy: { apiVersion: 'networking.k8s.io/v1', kinds: ['NetworkPolicy'] },
  kubearmor: { apiVersion: 'security.kubearmor.com/v1', kinds: ['KubeArmorPolicy'] },
  // TracingPolicyNamespaced is the same spec under a namespaced CRD (cilium.io_tracingpoliciesnamespaced.yaml).
  tetragon: { apiVersion: 'cilium.io/v1alpha1', kinds: ['TracingPolicy', 'TracingPolicyNamespaced'] },
};

function readJson(name: string): object {
  return JSON.parse(readFileSync(new URL(name, schemaDirectory), 'utf8')) as object;
}

function withoutSchemaKeyword(schema: object): object {
  const { $schema: _ignored, ...rest } = schema as Record<string, unknown>;
  return rest;
}

/** The openAPIV3Schema of a CRD file's first version, as the API server validates custom objects with it. */
function crdSchema(name: string): object {
  const documents = parseAllDocuments(readFileSync(new URL(name, schemaDirectory), 'utf8'));
  for (const document of documents) {
    const crd = document.toJS() as { kind?: string; spec?: { versions?: { schema?: { openAPIV3Schema?: object } }[] } } | null;
    const schema = crd?.kind === 'CustomResourceDefinition' ? crd.spec?.versions?.[0]?.schema?.openAPIV3Schema : undefined;
    if (schema) return schema;
  }
  throw new Error(`${name}: no CustomResourceDefinition with an openAPIV3Schema`);
}

let ajv: InstanceType<typeof Ajv.default> | undefined;
const compiled = new Map<SchemaFormat, ReturnType<InstanceType<typeof Ajv.default>['compile']>>();

function validatorFor(format: SchemaFormat) {
  let validate = compiled.get(format);
  if (!validate) {
    if (!ajv) {
      // strict: false lets the Kubernetes extensions (x-kubernetes-*) through as annotations, as the API server does.
      ajv = new Ajv.default({ strict: false, allErrors: true, loopEnum: 16 });
      addFormats.default(ajv);
      ajv.addMetaSchema(createRequire(import.meta.url)('ajv/dist/refs/json-schema-draft-06.json') as object);
    }
    validate = ajv.compile(schemaSources[format]());
    compiled.set(format, validate);
  }
  return validate;
}

function kubernetesChecks(format: SchemaFormat, document: unknown): string[] {
  const expected = expectedKinds[format];
  if (!expected) return [];
  const errors: string[] = [];
  const object = document as { apiVersion?: unknown; kind?: unknown; metadata?: Record<string, unknown>; spec?: Record<string, unknown> } | null;
  if (!object || typeof object !== 'object') return ['document is not an object'];
  if (object.apiVersion !== expected.apiVersion) errors.push(`/apiVersion must be ${expected.apiVersion}`);
  if (typeof object.kind !== 'string' || !expected.kinds.includes(object.kind)) errors.push(`/kind must be one of ${expected.kinds.join(', ')}`);
  const metadata = object.metadata ?? {};
  if (typeof metadata.name !== 'string' || !isDnsSubdomain(metadata.name)) errors.push('/metadata/name must be a DNS-1123 subdomain');
  if (metadata.namespace !== undefined && (typeof metadata.namespace !== 'string' || !isDnsLabel(metadata.namespace))) errors.push('/metadata/namespace must be a DNS-1123 label');
  const labelMaps: [string, unknown][] = [['/metadata/labels', metadata.labels]];
  const spec = object.spec ?? {};
  for (const key of ['podSelector', 'selector']) {
    const selector = spec[key] as { matchLabels?: unknown } | undefined;
    if (selector && typeof selector === 'object') labelMaps.push([`/spec/${key}/matchLabels`, selector.matchLabels]);
  }
  for (const [where, labels] of labelMaps) {
    if (labels === undefined || labels === null || typeof labels !== 'object') continue;
    for (const [key, value] of Object.entries(labels)) {
      if (!isLabelKey(key)) errors.push(`${where}: ${JSON.stringify(key)} is not a valid label key`);
      if (typeof value !== 'string' || !isLabelValue(value)) errors.push(`${where}/${key}: ${JSON.stringify(value)} is not a valid label value`);
    }
  }
  return errors;
}

/** One parsed document (JSON for seccomp, the YAML's object for the others) against its format's schema. */
export function validatePolicyDocument(format: SchemaFormat, document: unknown): PolicyValidation {
  const validate = validatorFor(format);
  const errors = validate(document) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? 'is invalid'}`);
  errors.push(...kubernetesChecks(format, document));
  return { valid: errors.length === 0, errors };
}

/** AppArmor profiles have no schema: one `profile NAME {…}` block, balanced braces and quotes, rules ending in `,`. */
export function checkAppArmorProfile(text: string): PolicyValidation {
  const errors: string[] = [];
  let depth = 0;
  let profiles = 0;
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    const where = `line ${index + 1}`;
    if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(raw)) errors.push(`${where}: control character`);
    if (line === '' || line.startsWith('#')) continue;
    if ((line.match(/"/g) ?? []).length % 2 !== 0) errors.push(`${where}: unbalanced quote`);
    if (line.endsWith('{')) {
      if (!/^profile [a-z0-9][-a-z0-9]* (flags=\([a-z_,]+\) )?\{$/.test(line)) errors.push(`${where}: not a profile header`);
      profiles++;
      depth++;
    } else if (line === '}') {
      depth--;
      if (depth < 0) errors.push(`${where}: unmatched }`);
    } else if (!line.endsWith(',')) {
      errors.push(`${where}: rule does not end with ,`);
    }
  }
  if (depth !== 0) errors.push('unbalanced braces');
  if (profiles !== 1) errors.push(`expected one profile block, found ${profiles}`);
  return { valid: errors.length === 0, errors };
}

/** An exported file's text: parsed as its format is read (JSON or YAML, every document) and validated. */
export function validatePolicyText(format: PolicyFormat, text: string): PolicyValidation {
  if (format === 'apparmor') return checkAppArmorProfile(text);
  let documents: unknown[];
  try {
    if (format === 'seccomp') documents = [JSON.parse(text)];
    else {
      const parsed = parseAllDocuments(text);
      const broken = parsed.flatMap((document) => document.errors.map((error) => error.message));
      if (broken.length > 0) return { valid: false, errors: broken.map((message) => `YAML: ${message}`) };
      documents = parsed.map((document) => document.toJS() as unknown);
    }
  } catch (error) {
    return { valid: false, errors: [`not ${format === 'seccomp' ? 'JSON' : 'YAML'}: ${(error as Error).message}`] };
  }
  if (documents.length === 0) return { valid: false, errors: ['no document'] };
  const errors = documents.flatMap((document, index) => validatePolicyDocument(format, document).errors.map((error) => (documents.length > 1 ? `document ${index + 1}: ${error}` : error)));
  return { valid: errors.length === 0, errors };
}
