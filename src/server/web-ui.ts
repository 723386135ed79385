/**
 * The web UI: the built single-page app (web/dist, made by `npm run build:web`) served beside the API. Hashed
 * assets are cached for a year, index.html never (so a new build is picked up at the next load), and any GET of a
 * page path that no route serves (`/entities/…`, `/setup`) answers index.html so the app's router takes over.
 * API paths and missing files (`/assets/old-chunk.js`) stay 404s with the error envelope.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** web/dist of this checkout or install: the same two levels up from src/server/ and from dist/server/. */
export const defaultWebRoot = fileURLToPath(new URL('../../web/dist/', import.meta.url));

const immutable = 'public, max-age=31536000, immutable';
const revalidate = 'no-cache';

export function hasWebBuild(root: string): boolean {
  return existsSync(join(root, 'index.html'));
}

/** Answers the request with the app when it is a page path; false when the caller should 404. */
export type WebUiFallback = (request: FastifyRequest, reply: FastifyReply) => boolean;

export async function registerWebUi(app: FastifyInstance, root: string): Promise<WebUiFallback> {
  await app.register(fastifyStatic, {
    root,
    // A catch-all that reads the directory at each request, so a rebuilt UI (new hashed names) is served without a
    // restart; a path with no file behind it goes on to the not-found handler, which answers pages with the app.
    wildcard: true,
    index: ['index.html'],
    cacheControl: false,
    setHeaders(response, path) {
      // Vite names assets by content hash, so a changed file is a new URL.
      response.setHeader('cache-control', path.includes(`${join(root, 'assets')}`) ? immutable : revalidate);
    },
  });
  return (request, reply) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    const path = request.url.split('?')[0] ?? '/';
    if (path === '/api' || path.startsWith('/api/')) return false;
    // A path naming a file (`.js`, `.png`) that is not there is missing, not a page.
    if (/\.[A-Za-z0-9]+$/.test(path.split('/').at(-1) ?? '')) return false;
    void reply.code(200).header('cache-control', revalidate).type('text/html; charset=utf-8').sendFile('index.html', root, { cacheControl: false });
    return true;
  };
}
