/**
 * Files beside a module, named at run time (a worker's entry point, sources to fingerprint): under tsx the sources
 * run as .ts; after tsc they are .js beside each other.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** The module `name` (no extension) beside the module at `base` (its import.meta.url), in the same form. */
export function siblingModule(base: string, name: string): URL {
  return new URL(`./${name}${base.endsWith('.ts') ? '.ts' : '.js'}`, base);
}

/**
 * A worker running the module at `url`. Built code starts the file itself; from source a worker inherits no module
 * hooks, so a small bootstrap registers tsx in it before importing the TypeScript file.
 */
export function startModuleWorker(url: URL, options: WorkerOptions): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
