/**
 * Benchmarks: the mapping from an external catalogue's numbering (CIS Docker 1.6 "5.5", Pod Security Standards
 * "baseline/privileged-containers") to our check ids. Kept apart from the checks so one check can serve several
 * catalogues and a new benchmark version is one new file. Each file is validated on load, naming the file.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { NomineError } from '../core/errors.ts';
import { listYamlFiles } from './load-checks.ts';

export const builtinBenchmarksDir = fileURLToPath(new URL('../../data/benchmarks/', import.meta.url));

const benchmarkSchema = z
  .object({
    id: z.string().min(1),
    title: z.string().min(1),
    version: z.string().min(1),
    controls: z
      .array(
        z
          .object({
            id: z.string().min(1),
            title: z.string().min(1),
            /** CIS "Automated" items are checked; "Manual" ones we still map when a check gives useful evidence. */
            automated: z.boolean().optional(),
            checks: z.array(z.string().min(1)).min(1),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

export type Benchmark = z.infer<typeof benchmarkSchema> & { source: string };

/** `CIS Docker Benchmark 1.6.0 5.5` → check id references, by check id. */
export type BenchmarkIndex = Map<string, { benchmark: string; control: string; title: string }[]>;

export async function loadBenchmarks(dir = builtinBenchmarksDir): Promise<Benchmark[]> {
  const benchmarks: Benchmark[] = [];
  for (const file of await listYamlFiles(dir)) {
    let data: unknown;
    try {
      data = parseYaml(await readFile(file, 'utf8'));
    } catch (error) {
      throw new NomineError('invalid-input', `benchmark file is not valid YAML: ${(error as Error).message}`, file, { cause: error });
    }
    const parsed = benchmarkSchema.safeParse(data);
    if (!parsed.success) throw new NomineError('invalid-input', `invalid benchmark mapping: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`, file);
    benchmarks.push({ ...parsed.data, source: file });
  }
  return benchmarks;
}

export function indexBenchmarks(benchmarks: readonly Benchmark[]): BenchmarkIndex {
  const index: BenchmarkIndex = new Map();
  for (const benchmark of benchmarks) {
    for (const control of benchmark.controls) {
      for (const checkId of control.checks) {
        const list = index.get(checkId) ?? [];
        list.push({ benchmark: `${benchmark.title} ${benchmark.version}`, control: control.id, title: control.title });
        index.set(checkId, list);
      }
    }
  }
  return index;
}
