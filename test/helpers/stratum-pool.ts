/**
 * A small stratum pool simulator for the runtime tests: listens on 127.0.0.x, answers XMRig's `login` with a job
 * and cpuminer's `mining.subscribe`/`mining.authorize` with a result, and records every connection and every login it
 * completed, so a test can assert a miner never got its login through.
 */
import { createServer, type Server, type Socket } from 'node:net';

export interface StratumPool {
  host: string;
  port: number;
  url: string;
  /** Connections accepted (a killed miner may connect and die before it says anything). */
  connections: number;
  /** Logins answered: the miner got work. */
  logins: { method: string; login?: string; at: number }[];
  close(): Promise<void>;
}

export async function startStratumPool(host = '127.0.0.2', port = 3333): Promise<StratumPool> {
  const sockets = new Set<Socket>();
  const pool: StratumPool = {
    host,
    port,
    url: `stratum+tcp://${host}:${port}`,
    connections: 0,
    logins: [],
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
  const server: Server = createServer((socket) => {
    pool.connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      if (buffered.length > 1 << 20) socket.destroy();
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        let request: { id?: unknown; method?: string; params?: { login?: string } | unknown[] };
        try {
          request = JSON.parse(line);
        } catch {
          continue;
        }
        if (request.method === 'login' || request.method === 'mining.authorize') {
          const login = Array.isArray(request.params) ? String(request.params[0]) : request.params?.login;
          pool.logins.push({ method: request.method, login, at: Date.now() });
          const result = request.method === 'login' ? { id: 'w1', job: { job_id: 'j1', blob: '0707', target: 'b88d0600' }, status: 'OK' } : true;
          socket.write(`${JSON.stringify({ id: request.id, jsonrpc: '2.0', error: null, result })}\n`);
        } else if (request.method) {
          socket.write(`${JSON.stringify({ id: request.id, jsonrpc: '2.0', error: null, result: { status: 'OK' } })}\n`);
        }
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return pool;
}
