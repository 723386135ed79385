/**
 * Pool endpoints: `host:port` pairs whose port is a common mining pool port (3333, 4444, 14444 …). Too common to
 * prove anything alone (8080-style ports are excluded from the list for that reason), so callers make it weak.
 */
const endpoint = /(?<![A-Za-z0-9.-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}|(?:\d{1,3}\.){3}\d{1,3}):(\d{2,5})(?![0-9])/gi;

/** Distinct endpoints on a stratum port, at most `max`. */
export function findPoolEndpoints(text: string, ports: ReadonlySet<number>, max = 3): string[] {
  if (ports.size === 0) return [];
  const found: string[] = [];
  const matcher = new RegExp(endpoint.source, endpoint.flags);
  let scanned = 0;
  for (let match = matcher.exec(text); match !== null; match = matcher.exec(text)) {
    if (++scanned > 10_000) break; // a file of nothing but host:port pairs must not stall the scan
    if (!ports.has(Number(match[2]))) continue;
    const value = match[0].toLowerCase();
    if (!found.includes(value)) found.push(value);
    if (found.length >= max) break;
  }
  return found;
}
