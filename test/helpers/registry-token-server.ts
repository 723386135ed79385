/**
 * A token service for tests, answering as the distribution token spec documents: `GET /token?service=&scope=`
 * with optional basic credentials returns `{ token, access_token, expires_in, issued_at }`, the token an RS256 JWT
 * whose `x5c` header carries a self-signed cert (made with the openssl CLI) that the registry trusts as its
 * rootcertbundle. Anonymous callers get a token granting nothing, as Docker Hub does for private repositories.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, randomUUID, sign, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TokenServerOptions {
  service: string;
  issuer: string;
  users: Record<string, string>;
}

export interface TokenServer {
  realm: string;
  /** PEM file with the signing cert, for the registry's `rootcertbundle`. */
  certPath: string;
  /** Every token request: the account and scopes asked for, and whether credentials checked out. */
  requests: { account?: string; scopes: string[]; authenticated: boolean }[];
  stop(): Promise<void>;
}

const base64url = (value: Buffer | string) => Buffer.from(value).toString('base64url');

/** `repository:app:pull,push` → an access entry (resource names may hold colons only before the last one). */
function parseScope(scope: string): { type: string; name: string; actions: string[] } | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first === -1 || last === first) return undefined;
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',') };
}

export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const dir = await mkdtemp(join(tmpdir(), 'nomine-token-'));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=nomine-test-token'], { stdio: 'ignore' });
  const privateKey = createPrivateKey(await readFile(keyPath));
  const certDer = new X509Certificate(await readFile(certPath)).raw;
  const requests: TokenServer['requests'] = [];

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://token');
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    const scopes = url.searchParams.getAll('scope');
    const header = req.headers.authorization ?? '';
    let account: string | undefined;
    if (header.startsWith('Basic ')) {
      const [user = '', ...rest] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
      if (options.users[user] !== rest.join(':')) {
        requests.push({ account: user, scopes, authenticated: false });
        res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="nomine-token"' });
        res.end(JSON.stringify({ details: 'incorrect username or password' }));
        return;
      }
      account = user;
    }
    requests.push({ ...(account ? { account } : {}), scopes, authenticated: account !== undefined });
    const now = Math.floor(Date.now() / 1000);
    const access = account ? scopes.map(parseScope).filter((entry) => entry !== undefined) : [];
    const claims = { iss: options.issuer, sub: account ?? '', aud: options.service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access };
    const signingInput = `${base64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')] }))}.${base64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(signingInput), privateKey);
    const token = `${signingInput}.${base64url(signature)}`;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    certPath,
    requests,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
