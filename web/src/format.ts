/** How the UI writes times, counts and sizes: short, relative where that reads faster, absolute on hover. */
const units: [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1_000],
];
const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto', style: 'short' });

export function timeAgo(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const delta = Date.parse(iso) - now;
  if (Math.abs(delta) < 5_000) return 'just now';
  for (const [unit, ms] of units) if (Math.abs(delta) >= ms || unit === 'second') return relative.format(Math.round(delta / ms), unit);
  return iso;
}

const absolute = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'medium' });

export function dateTime(iso: string | null | undefined): string {
  return iso ? absolute.format(new Date(iso)) : '—';
}

const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 });

export function count(value: number): string {
  return value < 10_000 ? value.toLocaleString('en') : compact.format(value);
}

export function bytes(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  if (value < 1024) return `${value} B`;
  const exponent = Math.min(Math.floor(Math.log(value) / Math.log(1024)), 4);
  return `${(value / 1024 ** exponent).toFixed(1)} ${['B', 'KiB', 'MiB', 'GiB', 'TiB'][exponent]}`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}

/** `sha256:abcdef…` → `abcdef123456`: enough to tell digests apart at a glance. */
export function shortDigest(digest: string | null | undefined): string {
  if (!digest) return '—';
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

export const ruleLabels: Record<string, string> = {
  'process-not-allowed': 'Process not allowed',
  'egress-not-allowed': 'Connection not allowed',
  'listen-not-allowed': 'Listening port not allowed',
  'file-write-not-allowed': 'File write not allowed',
  'syscall-not-allowed': 'Syscall not allowed',
  'cpu-above-envelope': 'CPU above envelope',
  drift: 'Drift (new executable)',
  'miner-executable': 'Miner executable',
  'mining-pool': 'Mining pool connection',
  'deleted-executable': 'Deleted executable',
};

export function ruleLabel(rule: string): string {
  return ruleLabels[rule] ?? rule;
}
