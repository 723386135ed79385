/**
 * Pool endpoints: `host:port` pairs whose port is a common mining pool port (3333, 4444, 14444 …). Too common to
 * prove anything alone (8080-style ports are excluded from the list for that reason), so callers make it weak.
 * The search runs port first: `:4444` is rare and a literal, so the scan runs at memory speed; only around a hit
 * is the host before it parsed (a host-first expression tried at every byte of a binary costs ~50x more).
 */
const hostBefore = /(?:(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}|(?:\d{1,3}\.){3}\d{1,3})$/i;
const maxHostLength = 253;

/** Distinct endpoints on a stratum port, at most `max`. */
export function findPoolEndpoints(text: string, ports: ReadonlySet<number>, max = 3): string[] {
  if (ports.size === 0) return [];
  const portMatcher = new RegExp(`:(?:${[...ports].join('|')})(?![0-9])`, 'g');
  const found: string[] = [];
  let scanned = 0;
  for (let match = portMatcher.exec(text); match !== null; match = portMatcher.exec(text)) {
    if (++scanned > 10_000) break; // a file of nothing but host:port pairs must not stall the scan
    const before = text.slice(Math.max(0, match.index - maxHostLength), match.index);
    const host = hostBefore.exec(before);
    if (!host) continue;
    const start = match.index - host[0].length;
    if (start > 0 && /[A-Za-z0-9.-]/.test(text[start - 1]!)) continue; // part of a longer token
    const value = `${host[0]}${match[0]}`.toLowerCase();
    if (!found.includes(value)) found.push(value);
    if (found.length >= max) break;
  }
  return found;
}
