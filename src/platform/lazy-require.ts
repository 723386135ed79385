/**
 * A CommonJS package loaded the first time it is used instead of at start-up: a scan the layer cache answers is
 * mostly start-up, and a local archive needs neither the HTTP client nor the zstd binding.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function lazyRequire<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(name) as T);
}
