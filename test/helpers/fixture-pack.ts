/**
 * The fixtures' packer: appends an encrypted payload to test/fixtures/packer/memfd-stub.c's binary, which decrypts
 * it into a memfd and runs it. Stands in for UPX (not packaged for this Debian) and matches what fileless droppers
 * do: no payload byte is readable on disk. The trailer layout is documented in the stub.
 */

const TRAILER_MAGIC = 'NMPK';

/** xorshift32 keystream, the same one the stub runs, so encrypting twice decrypts. */
export function xorshiftCrypt(data: Uint8Array, seed: number): Buffer {
  const out = Buffer.from(data);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i]! ^= x & 0xff;
  }
  return out;
}

export function packExecutable(stub: Uint8Array, payload: Uint8Array, seed: number): Buffer {
  const trailer = Buffer.alloc(16);
  trailer.writeBigUInt64LE(BigInt(payload.length), 0);
  trailer.writeUInt32LE(seed >>> 0, 8);
  trailer.write(TRAILER_MAGIC, 12, 'latin1');
  return Buffer.concat([stub, xorshiftCrypt(payload, seed), trailer]);
}
