/**
 * Address ranges: IPv4/IPv6 addresses and CIDR blocks as numbers, so a profile can hold `10.0.3.0/24` for a
 * workload that talks to many hosts of one subnet, and a pool list can name whole networks. IPv4-mapped IPv6
 * addresses (`::ffff:10.0.3.7`, what a dual-stack socket reports) are treated as the IPv4 address they carry, so one
 * destination never looks like two.
 */
export interface ParsedAddress {
  family: 4 | 6;
  value: bigint;
}

export interface AddressRange {
  family: 4 | 6;
  /** First address of the block (host bits zero). */
  base: bigint;
  prefix: number;
}

const bitsOf = { 4: 32, 6: 128 } as const;

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    // Leading zeros are refused: `010` is octal to some parsers and decimal to others.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const byte = Number(part);
    if (byte > 255) return undefined;
    value = (value << 8n) | BigInt(byte);
  }
  return value;
}

function parseIpv6(text: string): bigint | undefined {
  // Zone ids (`fe80::1%eth0`) name an interface, not a different address.
  const bare = text.split('%')[0]!;
  if (bare.length === 0 || bare.length > 45) return undefined;
  const halves = bare.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (half: string): number[] | undefined => {
    if (half === '') return [];
    const groups: number[] = [];
    const pieces = half.split(':');
    for (let index = 0; index < pieces.length; index++) {
      const piece = pieces[index]!;
      if (index === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIpv4(piece);
        if (v4 === undefined) return undefined;
        groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) {
        groups.push(parseInt(piece, 16));
      } else {
        return undefined;
      }
    }
    return groups;
  };
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  let value = 0n;
  for (const group of groups) value = (value << 16n) | BigInt(group);
  return value;
}

export function parseAddress(text: string): ParsedAddress | undefined {
  const trimmed = text.trim();
  if (trimmed.includes(':')) {
    const value = parseIpv6(trimmed.startsWith('[') && trimmed.endsWith(']') ? trimmed.slice(1, -1) : trimmed);
    if (value === undefined) return undefined;
    if (value >> 32n === 0xffffn) return { family: 4, value: value & 0xffffffffn };
    return { family: 6, value };
  }
  const value = parseIpv4(trimmed);
  return value === undefined ? undefined : { family: 4, value };
}

function maskOf(family: 4 | 6, prefix: number): bigint {
  const bits = BigInt(bitsOf[family]);
  const host = bits - BigInt(prefix);
  return ((1n << bits) - 1n) ^ ((1n << host) - 1n);
}

/** `10.0.3.0/24`, `2001:db8::/32`, or a bare address (a block of one). Host bits are cleared. */
export function parseRange(text: string): AddressRange | undefined {
  const [addressText, prefixText, extra] = text.trim().split('/');
  if (extra !== undefined || addressText === undefined) return undefined;
  const parsed = parseAddress(addressText);
  if (!parsed) return undefined;
  const bits = bitsOf[parsed.family];
  let prefix: number = bits;
  if (prefixText !== undefined) {
    if (!/^[0-9]{1,3}$/.test(prefixText)) return undefined;
    prefix = Number(prefixText);
    // `::ffff:10.0.0.0/104` is the IPv4 block /8.
    const mapped = addressText.includes(':') && parsed.family === 4;
    if (mapped) prefix -= 96;
    if (prefix < 0 || prefix > bits) return undefined;
  }
  return { family: parsed.family, base: parsed.value & maskOf(parsed.family, prefix), prefix };
}

export function rangeContains(range: AddressRange, address: ParsedAddress): boolean {
  return range.family === address.family && (address.value & maskOf(range.family, range.prefix)) === range.base;
}

/** The block of `prefix` bits (capped at the family's width) around an address. */
export function enclosingRange(address: ParsedAddress, prefix: number): AddressRange {
  const capped = Math.min(prefix, bitsOf[address.family]);
  return { family: address.family, base: address.value & maskOf(address.family, capped), prefix: capped };
}

export function formatAddress(address: ParsedAddress): string {
  if (address.family === 4) {
    const v = address.value;
    return [24n, 16n, 8n, 0n].map((shift) => String((v >> shift) & 0xffn)).join('.');
  }
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(((address.value >> shift) & 0xffffn).toString(16));
  // RFC 5952: compress the longest run of two or more zero groups.
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; ) {
    if (groups[start] !== '0') {
      start++;
      continue;
    }
    let end = start;
    while (end < 8 && groups[end] === '0') end++;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}

/** `10.0.3.0/24`; a block of one is written as the bare address. */
export function formatRange(range: AddressRange): string {
  const address = formatAddress({ family: range.family, value: range.base });
  return range.prefix === bitsOf[range.family] ? address : `${address}/${range.prefix}`;
}

/** Is the text a single address (no prefix, or a full-width one)? */
export function isSingleAddress(range: AddressRange): boolean {
  return range.prefix === bitsOf[range.family];
}

/** The canonical spelling of an address or block, or undefined when it is not one. */
export function normaliseAddressText(text: string): string | undefined {
  const range = parseRange(text);
  return range ? formatRange(range) : undefined;
}
