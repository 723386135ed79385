/**
 * Certificates for TLS probe tests, made with Debian's openssl in a temp dir: a self-signed one, and a server
 * certificate issued by a test CA (not self-signed), both valid for one day (a clock set after that day shows them
 * expired); CA, server and client certificate files for a TLS dockerd; and a certificate `openssl ca` issues with
 * explicit past dates, really expired on the real clock.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  selfSigned: { key: string; cert: string };
  caIssued: { key: string; cert: string };
}

export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'nomine-probe-certs-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    ssl('req', '-x509', ...ec, '-keyout', 'ss.key', '-out', 'ss.crt', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost');
    ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=nomine test CA');
    ssl('req', ...ec, '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=localhost');
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    ssl('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.crt', '-days', '1', '-extfile', 'ext.cnf');
    const read = (name: string) => readFileSync(join(dir, name), 'utf8');
    return { selfSigned: { key: read('ss.key'), cert: read('ss.crt') }, caIssued: { key: read('srv.key'), cert: read('srv.crt') } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Files for a TLS-serving daemon (dockerd): a CA, a server certificate for 127.0.0.1 and a client certificate. */
export interface CertificateFiles {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  read(file: string): string;
  remove(): void;
}

/** A CA, a server certificate (SAN IP:127.0.0.1) and a client certificate, made with the openssl CLI in a temp dir. */
export function makeDaemonCertificates(): CertificateFiles {
  const dir = mkdtempSync(join(tmpdir(), 'nomine-probe-daemon-certs-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=nomine docker test CA');
    ssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(join(dir, 'server.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'server.cnf');
    ssl('req', ...ec, '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=nomine-test-client');
    writeFileSync(join(dir, 'client.cnf'), 'extendedKeyUsage=clientAuth\n');
    ssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '1', '-extfile', 'client.cnf');
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const file = (name: string) => join(dir, name);
  return {
    dir,
    ca: file('ca.crt'),
    serverCert: file('server.crt'),
    serverKey: file('server.key'),
    clientCert: file('client.crt'),
    clientKey: file('client.key'),
    read: (path) => readFileSync(path, 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * A server certificate (SAN IP:127.0.0.1) issued by `openssl ca` with explicit dates, so it can be really expired:
 * `x509` in OpenSSL 3.0 has no -not_before/-not_after, `ca` has -startdate/-enddate. Dates are `YYYYMMDDHHMMSSZ`.
 */
export function makeDatedCertificate(dates: { start: string; end: string }): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'nomine-probe-ca-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3650', '-subj', '/CN=nomine dated test CA');
    ssl('req', ...ec, '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=localhost');
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(join(dir, 'serial'), '1000\n');
    writeFileSync(
      join(dir, 'ca.cnf'),
      [
        '[ ca ]', 'default_ca = test_ca',
        '[ test_ca ]', `dir = ${dir}`, 'database = $dir/index.txt', 'serial = $dir/serial', 'new_certs_dir = $dir',
        'certificate = $dir/ca.crt', 'private_key = $dir/ca.key', 'default_md = sha256', 'policy = any_policy',
        'unique_subject = no', 'copy_extensions = none', 'x509_extensions = server_ext',
        '[ any_policy ]', 'commonName = supplied',
        '[ server_ext ]', 'basicConstraints = CA:FALSE', 'subjectAltName = IP:127.0.0.1,DNS:localhost', 'extendedKeyUsage = serverAuth',
        '',
      ].join('\n'),
    );
    ssl('ca', '-batch', '-config', 'ca.cnf', '-in', 'srv.csr', '-out', 'srv.crt', '-notext', '-startdate', dates.start, '-enddate', dates.end);
    return { key: readFileSync(join(dir, 'srv.key'), 'utf8'), cert: readFileSync(join(dir, 'srv.crt'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
