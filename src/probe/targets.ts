/**
 * Targets: what the user names, and nothing else. A host, HOST:PORT, a URL, or an IPv4 CIDR range of their own
 * (capped at limits.minCidrPrefix, /16 by default); a target without a port is tried on the well-known ports of the
 * services we probe. Expansion is lazy, so a /16 never sits in memory as a list.
 */
import { isIP } from 'node:net';
import { NomineError } from '../core/errors.ts';
import type { Scheme } from './probe-http.ts';

export interface EndpointSpec {
  /** The target as the user wrote it. */
  input: string;
  hostname: string;
  port: number;
  /** Fixed by a URL target; otherwise detected. */
  scheme?: Scheme;
  /** `HOST:PORT` for messages. */
  name: string;
}

export interface Endpoint extends EndpointSpec {
  /** The IP address connected to (the hostname resolved once, so every probe talks to the same machine). */
  address: string;
}

export interface Target {
  input: string;
  scheme?: Scheme;
  ports: number[];
  /** Hosts (names or addresses) the target covers. */
  hosts: () => Iterable<string>;
  hostCount: number;
}

/**
 * Ports tried when a target names none: Docker Engine (2375 plain, 2376 TLS), registry (5000), Kubernetes API
 * (6443, 8080 the old insecure port, 443), kubelet (10250, 10255 read-only), etcd (2379), consoles (80, 9000, 9443, 8443).
 */
export const wellKnownPorts = [80, 443, 2375, 2376, 2379, 5000, 6443, 8080, 8443, 9000, 9443, 10250, 10255] as const;

const hostnamePattern = /^(?=.{1,253}$)[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?$/;

function invalid(input: string, why: string): NomineError {
  return new NomineError('invalid-input', `"${input}" is not a target: ${why}`, `target ${input}`);
}

function parsePort(input: string, text: string): number {
  if (!/^\d{1,5}$/.test(text)) throw invalid(input, `"${text}" is not a port`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw invalid(input, `port ${port} is outside 1-65535`);
  return port;
}

function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

function numberToIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

export interface TargetOptions {
  /** Ports for targets that name none (default: wellKnownPorts). */
  ports?: readonly number[];
  minCidrPrefix: number;
}

/** Parses one target; throws invalid-input or limit-exceeded naming the target. */
export function parseTarget(raw: string, options: TargetOptions): Target {
  const input = raw.trim();
  const defaultPorts = [...(options.ports ?? wellKnownPorts)];
  if (input === '') throw invalid(raw, 'it is empty');

  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) {
    let url: URL;
    try {
      url = new URL(input);
    } catch {
      throw invalid(input, 'it is not a valid URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(input, `scheme ${url.protocol} is not http or https`);
    const scheme = url.protocol === 'https:' ? 'https' : 'http';
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    const port = url.port ? Number(url.port) : scheme === 'https' ? 443 : 80;
    return { input, scheme, ports: [port], hosts: () => [hostname], hostCount: 1 };
  }

  const cidr = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})(?::(\d+))?$/.exec(input);
  if (cidr) {
    const [, base = '', prefixText = '', portText] = cidr;
    if (isIP(base) !== 4) throw invalid(input, `${base} is not an IPv4 address`);
    const prefix = Number(prefixText);
    if (prefix > 32) throw invalid(input, `/${prefix} is not a prefix length`);
    if (prefix < options.minCidrPrefix) {
      throw new NomineError(
        'limit-exceeded',
        `"${input}" covers ${2 ** (32 - prefix)} addresses; ranges may be at most /${options.minCidrPrefix} (${2 ** (32 - options.minCidrPrefix)} addresses) — split it, or raise --max-cidr`,
        `target ${input}`,
      );
    }
    const size = 2 ** (32 - prefix);
    const start = prefix === 0 ? 0 : (ipv4ToNumber(base) >>> (32 - prefix)) * size;
    const ports = portText ? [parsePort(input, portText)] : defaultPorts;
    return {
      input,
      ports,
      hostCount: size,
      *hosts() {
        for (let i = 0; i < size; i++) yield numberToIpv4(start + i);
      },
    };
  }
  if (input.includes('/')) throw invalid(input, 'only IPv4 CIDR ranges (A.B.C.D/NN) and http(s) URLs may contain a slash');

  // [v6]:port, [v6], bare v6, host:port, host
  let host = input;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(input);
  if (bracketed) {
    host = bracketed[1] ?? '';
    portText = bracketed[2];
  } else if (isIP(input) !== 6) {
    const colon = input.lastIndexOf(':');
    if (colon !== -1) {
      host = input.slice(0, colon);
      portText = input.slice(colon + 1);
    }
  }
  if (isIP(host) === 0 && !hostnamePattern.test(host)) throw invalid(input, `"${host}" is not a host name or IP address`);
  const ports = portText !== undefined ? [parsePort(input, portText)] : defaultPorts;
  return { input, ports, hosts: () => [host], hostCount: 1 };
}

export function endpointCount(target: Target): number {
  return target.hostCount * target.ports.length;
}

/** Every endpoint of a target, lazily: hosts in order, each host's ports together (one machine at a time). */
export function* endpointsOf(target: Target): Generator<EndpointSpec> {
  for (const hostname of target.hosts()) {
    for (const port of target.ports) {
      const host = hostname.includes(':') ? `[${hostname}]` : hostname;
      yield { input: target.input, hostname, port, name: `${host}:${port}`, ...(target.scheme ? { scheme: target.scheme } : {}) };
    }
  }
}

/** Reads a --targets-file: one target a line; blank lines and `#` comments are skipped. */
export function parseTargetLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line !== '');
}
