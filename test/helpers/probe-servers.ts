/**
 * Small servers for `nomine probe` tests, for products that cannot be installed here (Kubernetes API server,
 * kubelet, web consoles) and for hostile endpoints (hang, garbage, redirect loop, huge body). Each answers the
 * way the real product documents: status codes, JSON shapes (`Status` objects, `PodList`), headers.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Socket } from 'node:net';

export interface TestServer {
  host: string;
  port: number;
  /** `HOST:PORT` */
  name: string;
  /** Requests seen, `METHOD PATH`, for asserting what the probe asked (e.g. one login per credential). */
  requests: string[];
  stop(): Promise<void>;
}

export type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

export interface ServeOptions {
  host?: string;
  port?: number;
  tls?: { key: string; cert: string };
}

export async function serveHttp(handler: Handler, options: ServeOptions = {}): Promise<TestServer> {
  const requests: string[] = [];
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      requests.push(`${req.method} ${req.url}`);
      handler(req, body, res);
    });
  };
  const server: Server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, listener) : createHttpServer(listener);
  return listen(server, options, requests);
}

async function listen(server: Server | ReturnType<typeof createNetServer>, options: ServeOptions, requests: string[]): Promise<TestServer> {
  const host = options.host ?? '127.0.0.1';
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host,
    port,
    name: `${host}:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
}

/** The API server's refusal for system:anonymous, as kube-apiserver words it. */
function forbidden(resource: string): object {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `${resource} is forbidden: User "system:anonymous" cannot list resource "${resource}" in API group "" at the cluster scope`,
    reason: 'Forbidden',
    details: { kind: resource },
    code: 403,
  };
}

const podList = { kind: 'PodList', apiVersion: 'v1', metadata: {}, items: [{ metadata: { name: 'web-0', namespace: 'default' }, spec: { containers: [{ name: 'web', image: 'nginx' }] } }] };

/** kube-apiserver: `anonymous` lets system:anonymous list everything (a ClusterRoleBinding gone wrong). */
export function kubeApiHandler(options: { anonymous: boolean }): Handler {
  return (req, _body, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/version') return sendJson(res, 200, { major: '1', minor: '30', gitVersion: 'v1.30.2', platform: 'linux/amd64' });
    if (path === '/api') return sendJson(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '10.0.0.1:6443' }] });
    const list = /^\/api\/v1\/(pods|secrets|nodes)$/.exec(path);
    if (list?.[1]) {
      if (!options.anonymous) return sendJson(res, 403, forbidden(list[1]));
      const kind = { pods: 'PodList', secrets: 'SecretList', nodes: 'NodeList' }[list[1] as 'pods'];
      return sendJson(res, 200, { kind, apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [] });
    }
    sendJson(res, 404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', code: 404 });
  };
}

/** kubelet: `open` serves /pods to anyone (read-only port, or anonymous auth with AlwaysAllow); else 401 text. */
export function kubeletHandler(options: { open: boolean }): Handler {
  return (req, _body, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (!options.open) {
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' });
      return res.end('Unauthorized');
    }
    if (path === '/pods' || path === '/runningpods/') return sendJson(res, 200, podList);
    if (path === '/healthz') return res.end('ok');
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
  };
}

/** Portainer: /api/status answers its version; /api/auth returns a jwt for the right password, else 422. */
export function portainerHandler(options: { password: string }): Handler {
  return (req, body, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/api/status') return sendJson(res, 200, { Version: '2.19.4', InstanceID: 'b3d1' });
    if (path === '/api/auth' && req.method === 'POST') {
      const credentials = JSON.parse(body || '{}') as { username?: string; password?: string };
      if (credentials.username === 'admin' && credentials.password === options.password) return sendJson(res, 200, { jwt: 'eyJhbGciOi.test.token' });
      return sendJson(res, 422, { message: 'Invalid credentials', details: 'Unauthorized' });
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Portainer</title>');
  };
}

/** Login attempts a console server saw, as `USER:PASSWORD`, whichever login API was used. */
export type LoginLog = string[];

function basicCredentials(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization ?? '';
  return header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString('utf8') : undefined;
}

/**
 * Harbor 2.x: GET /api/v2.0/systeminfo answers `harbor_version` to anyone; the portal logs in with POST /c/login
 * (form fields `principal`, `password`) → 200 and a `sid` cookie, else 401; the REST API takes basic auth, e.g.
 * GET /api/v2.0/users/current → 200 with the user, else 401 with Harbor's `errors` array.
 */
export function harborHandler(options: { password: string; logins: LoginLog }): Handler {
  const unauthorized = { errors: [{ code: 'UNAUTHORIZED', message: 'unauthorized' }] };
  return (req, body, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/api/v2.0/systeminfo' && req.method === 'GET') {
      return sendJson(res, 200, { with_notary: false, auth_mode: 'db_auth', registry_url: '127.0.0.1', external_url: 'https://127.0.0.1', project_creation_restriction: 'everyone', self_registration: false, has_ca_root: false, harbor_version: 'v2.10.0-b6ac5b5e' });
    }
    if (path === '/c/login' && req.method === 'POST') {
      const form = new URLSearchParams(body);
      options.logins.push(`${form.get('principal')}:${form.get('password')}`);
      if (form.get('principal') === 'admin' && form.get('password') === options.password) {
        res.writeHead(200, { 'set-cookie': 'sid=0b1f7c5e9d2a4c3b8e6f; Path=/; HttpOnly' });
        return res.end();
      }
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' });
      return res.end();
    }
    if (path === '/api/v2.0/users/current' && req.method === 'GET') {
      const credentials = basicCredentials(req);
      if (credentials === undefined) return sendJson(res, 401, unauthorized);
      options.logins.push(credentials);
      if (credentials === `admin:${options.password}`) return sendJson(res, 200, { user_id: 1, username: 'admin', email: 'admin@example.com', realname: 'system admin', sysadmin_flag: true });
      return sendJson(res, 401, unauthorized);
    }
    if (path.startsWith('/api/') || path.startsWith('/c/')) return sendJson(res, 404, { errors: [{ code: 'NOT_FOUND', message: 'not found' }] });
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><html><head><title>Harbor</title></head><body><harbor-app></harbor-app></body></html>');
  };
}

/**
 * Rancher 2.x: GET /v3-public/authProviders lists the providers as a `collection`; POST
 * /v3-public/localProviders/local?action=login with JSON `{username, password}` → 201 with a `token`, else 401.
 */
export function rancherHandler(options: { password: string; logins: LoginLog }): Handler {
  return (req, body, res) => {
    const [path = '/', query = ''] = (req.url ?? '/').split('?');
    if (path === '/v3-public/authProviders' && req.method === 'GET') {
      return sendJson(res, 200, { type: 'collection', resourceType: 'authProvider', links: { self: '/v3-public/authProviders' }, data: [{ id: 'local', type: 'localProvider', actions: { login: '/v3-public/localProviders/local?action=login' } }] });
    }
    if (path === '/v3-public/localProviders/local' && new URLSearchParams(query).get('action') === 'login' && req.method === 'POST') {
      const credentials = JSON.parse(body || '{}') as { username?: string; password?: string };
      options.logins.push(`${credentials.username}:${credentials.password}`);
      if (credentials.username === 'admin' && credentials.password === options.password) {
        return sendJson(res, 201, { type: 'token', id: 'token-x7k2p', userId: 'user-abcde', authProvider: 'local', token: 'token-x7k2p:9fq2longsecretvalue' });
      }
      return sendJson(res, 401, { type: 'error', baseType: 'error', code: 'Unauthorized', status: 401, message: 'authentication failed' });
    }
    if (path.startsWith('/v3') || path.startsWith('/api/')) return sendJson(res, 404, { type: 'error', status: 404, code: 'NotFound', message: 'not found' });
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><html><head><title>Rancher</title></head><body></body></html>');
  };
}

/** Shipyard: its page titled "shipyard"; POST /auth/login with JSON `{username, password}` → 200 `{auth_token}`, else 403. */
export function shipyardHandler(options: { password: string; logins: LoginLog }): Handler {
  return (req, body, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/auth/login' && req.method === 'POST') {
      const credentials = JSON.parse(body || '{}') as { username?: string; password?: string };
      options.logins.push(`${credentials.username}:${credentials.password}`);
      if (credentials.username === 'admin' && credentials.password === options.password) return sendJson(res, 200, { auth_token: '$2a$10$Vq3shipyardtoken', user_agent: 'nomine-probe' });
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' });
      return res.end('invalid username/password\n');
    }
    if (path === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><html><head><title>shipyard</title></head><body ng-app="shipyard"></body></html>');
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
  };
}

/** Kubernetes Dashboard: /api/v1/login/skippable answers whether --enable-skip-login is set. */
export function dashboardHandler(options: { skippable: boolean }): Handler {
  return (req, _body, res) => {
    if (req.url === '/api/v1/login/skippable') return sendJson(res, 200, { skippable: options.skippable });
    if (req.url === '/api/v1/login/modes') return sendJson(res, 200, { modes: ['token'] });
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Kubernetes Dashboard</title>');
  };
}

/** Accepts connections and never says a word. */
export async function serveHang(options: ServeOptions = {}): Promise<TestServer> {
  const server = createNetServer(() => undefined);
  return listen(server, options, []);
}

/** Answers any bytes with bytes that are neither HTTP nor TLS, then closes. */
export async function serveGarbage(options: ServeOptions = {}): Promise<TestServer> {
  const server = createNetServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => socket.end(Buffer.from('\x00\xffSSH-9.9 not what you asked for\r\n\x07\x08garbage\n')));
  });
  return listen(server, options, []);
}

/** Redirects every path to another path on itself, forever. */
export function redirectLoopHandler(): Handler {
  let n = 0;
  return (_req, _body, res) => {
    res.writeHead(302, { location: `/loop/${++n}` }).end();
  };
}

/** Streams `bytes` of JSON-looking data for every request (a body no one should read whole). */
export function hugeBodyHandler(bytes: number): Handler {
  return (_req, _body, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    const pump = () => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('error', () => undefined);
    res.socket?.on('error', () => undefined);
    pump();
  };
}
