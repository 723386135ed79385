/**
 * TLS inspection: one handshake with node:tls, verification off so we can see what the endpoint presents, then
 * the facts about its certificate (self-signed, validity dates, who issued it). Judging them is tls-probe's job.
 */
import { connect } from 'node:tls';
import { NomineError } from '../core/errors.ts';
import type { Endpoint } from './targets.ts';

export interface TlsFacts {
  protocol: string;
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  /** Why Node's default trust store would refuse it (`DEPTH_ZERO_SELF_SIGNED_CERT`, `CERT_HAS_EXPIRED`), if it would. */
  verifyError?: string;
  isSelfSigned: boolean;
  fingerprint256: string;
}

/** TLS alerts a server sends a client that brought no certificate (Node's error codes for them). */
const clientCertificateAlert = /CERTIFICATE_REQUIRED|BAD_CERTIFICATE|HANDSHAKE_FAILURE/;

export type TlsHandshake = { ok: true; facts: TlsFacts } | { ok: false; error: NomineError };

function distinguishedName(name: Record<string, string | string[]> | undefined): string {
  if (!name) return '';
  return Object.entries(name).map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('+') : value}`).join(', ');
}

export function inspectTls(endpoint: Endpoint, timeoutMs: number, signal: AbortSignal): Promise<TlsHandshake> {
  const part = `endpoint ${endpoint.name}`;
  return new Promise((resolve) => {
    let connected = false;
    const socket = connect({
      host: endpoint.address,
      port: endpoint.port,
      rejectUnauthorized: false,
      ...(endpoint.hostname !== endpoint.address ? { servername: endpoint.hostname } : {}),
      ALPNProtocols: ['http/1.1'],
    });
    const finish = (result: TlsHandshake) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      resolve(result);
    };
    const onAbort = () => finish({ ok: false, error: new NomineError('timeout', 'the run deadline passed', part) });
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => {
      finish({
        ok: false,
        error: connected
          ? new NomineError('timeout', `connected, but no TLS handshake answer within ${timeoutMs} ms (the endpoint hangs)`, part)
          : new NomineError('unreachable', `no connection within ${timeoutMs} ms (filtered or down)`, part),
      });
    }, timeoutMs);
    socket.once('connect', () => (connected = true));
    socket.once('secureConnect', () => {
      // TLS 1.3 servers ask for a client certificate after the handshake: send one request and see whether the
      // server answers or refuses us, so mutual TLS is told apart from a broken endpoint.
      if (socket.getProtocol() === 'TLSv1.3') {
        const facts = handshakeFacts();
        socket.removeAllListeners('error');
        let answered = false;
        socket.once('data', () => {
          answered = true;
          finish({ ok: true, facts });
        });
        socket.once('error', (error: NodeJS.ErrnoException) => finish(!answered && clientCertificateAlert.test(error.code ?? '') ? refusedWithoutCertificate(error) : { ok: true, facts }));
        socket.once('end', () => finish({ ok: true, facts }));
        socket.write(`GET / HTTP/1.1\r\nHost: ${endpoint.hostname}\r\nConnection: close\r\n\r\n`);
        return;
      }
      finish({ ok: true, facts: handshakeFacts() });
    });
    const refusedWithoutCertificate = (error?: NodeJS.ErrnoException): TlsHandshake => ({
      ok: false,
      error: new NomineError('forbidden', `requires a TLS client certificate (mutual TLS): the endpoint refused a client without one${error?.code ? ` (${error.code})` : ''}`, part, error ? { cause: error } : undefined),
    });
    const handshakeFacts = (): TlsFacts => {
      const cert = socket.getPeerCertificate();
      const verifyError = socket.authorizationError ? String((socket.authorizationError as unknown as { code?: string }).code ?? socket.authorizationError) : undefined;
      const subject = distinguishedName(cert.subject as unknown as Record<string, string>);
      const issuer = distinguishedName(cert.issuer as unknown as Record<string, string>);
      return {
          protocol: socket.getProtocol() ?? 'unknown',
          subject,
          issuer,
          validFrom: cert.valid_from,
          validTo: cert.valid_to,
          ...(verifyError ? { verifyError } : {}),
          isSelfSigned: verifyError === 'DEPTH_ZERO_SELF_SIGNED_CERT' || verifyError === 'SELF_SIGNED_CERT_IN_CHAIN' || (subject !== '' && subject === issuer),
          fingerprint256: cert.fingerprint256,
      };
    };
    socket.once('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? '';
      if (code === 'ECONNREFUSED') finish({ ok: false, error: new NomineError('unreachable', 'connection refused (nothing listens on this port)', part, { cause: error }) });
      else if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') finish({ ok: false, error: new NomineError('unreachable', `host unreachable (${code})`, part, { cause: error }) });
      // TLS 1.2 servers ask for the client certificate inside the handshake and abort it with an alert.
      else if (clientCertificateAlert.test(code)) finish(refusedWithoutCertificate(error));
      else finish({ ok: false, error: new NomineError('invalid-input', `no TLS handshake (${code || error.message})`, part, { cause: error }) });
    });
  });
}
