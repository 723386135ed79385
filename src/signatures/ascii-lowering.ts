/**
 * ASCII lowering: a lower-cased copy of a window of bytes (A-Z become a-z, every other byte stays), so literals can
 * be searched case-insensitively as plain lower-case strings. YARA-X matches plain strings several times faster
 * than `nocase` ones (measured: 460 against 95 MB/s on text), which pays for the copy many times over. The copy is
 * made by a few WebAssembly SIMD instructions, 16 bytes at a time; where WebAssembly SIMD is missing, by 32-bit
 * word arithmetic in JavaScript.
 */

/** Bytes lowered per window; a longer input is handled window by window by the caller. */
export const loweringWindowBytes = 1024 * 1024;
const pageBytes = 64 * 1024;
/** The window, room for the caller's overlap, and the padding of the last 16-byte block. */
const memoryPages = loweringWindowBytes / pageBytes + 1;
/** The most one call lowers: the memory, less the 16 bytes the last block may run past the end. */
export const maxLoweredBytes = memoryPages * pageBytes - 16;

function leb128(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

const section = (id: number, body: number[]) => [id, ...leb128(body.length), ...body];
const splat = (byte: number) => [0xfd, 0x0c, ...new Array<number>(16).fill(byte)];

/**
 * (module (memory (export "memory") 17)
 *   (func (export "lower") (param $at i32) (param $end i32) (local $v v128)
 *     (block (loop
 *       (br_if 1 (i32.eqz (i32.lt_u (local.get $at) (local.get $end))))
 *       (v128.store (local.get $at)
 *         (v128.or (local.tee $v (v128.load (local.get $at)))
 *           (v128.and (i8x16.lt_u (i8x16.sub (local.get $v) (splat 'A')) (splat 26)) (splat 0x20))))
 *       (local.set $at (i32.add (local.get $at) (i32.const 16)))
 *       (br 0)))))
 */
function loweringModule(): Uint8Array {
  const body = [
    0x01, 0x01, 0x7b, // one local: v128
    0x02, 0x40, 0x03, 0x40, // block, loop
    0x20, 0x00, 0x20, 0x01, 0x49, 0x45, 0x0d, 0x01, // br_if 1 (!(at < end))
    0x20, 0x00, // address for the store
    0x20, 0x00, 0xfd, 0x00, 0x00, 0x00, 0x22, 0x02, // v = v128.load at
    0x20, 0x02, ...splat(0x41), 0xfd, 0x71, // v - 'A'
    ...splat(26), 0xfd, 0x26, // < 26 (unsigned): an upper-case letter
    ...splat(0x20), 0xfd, 0x4e, // & 0x20
    0xfd, 0x50, // v | that
    0xfd, 0x0b, 0x00, 0x00, // v128.store
    0x20, 0x00, 0x41, 0x10, 0x6a, 0x21, 0x00, // at += 16
    0x0c, 0x00, // br 0
    0x0b, 0x0b, 0x0b, // end loop, block, function
  ];
  const name = (text: string) => [...leb128(text.length), ...Buffer.from(text)];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [0x01, 0x60, 0x02, 0x7f, 0x7f, 0x00]), // type (i32, i32) -> ()
    ...section(3, [0x01, 0x00]), // one function of that type
    ...section(5, [0x01, 0x00, ...leb128(memoryPages)]), // one memory
    ...section(7, [0x02, ...name('memory'), 0x02, 0x00, ...name('lower'), 0x00, 0x00]),
    ...section(10, [0x01, ...leb128(body.length), ...body]),
  ]);
}

/** Lowers bytes[start, end) into `target` from `at` with 32-bit word arithmetic: no SIMD needed. */
function lowerWords(bytes: Uint8Array, start: number, end: number, target: Uint8Array, at: number): void {
  let i = start;
  let j = at;
  const lowerByte = (byte: number) => (byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte);
  // Source and target share their alignment (the caller chose `at` so), so words line up on both sides.
  while (i < end && ((bytes.byteOffset + i) & 3) !== 0) target[j++] = lowerByte(bytes[i++]!);
  const words = (end - i) >>> 2;
  if (words > 0 && ((target.byteOffset + j) & 3) === 0) {
    const from = new Int32Array(bytes.buffer, bytes.byteOffset + i, words);
    const to = new Int32Array(target.buffer, target.byteOffset + j, words);
    for (let k = 0; k < words; k++) {
      const word = from[k]!;
      const low7 = word & 0x7f7f7f7f;
      // High bit of each byte: ASCII, at least 'A', and not past 'Z'.
      const upper = ~word & (low7 + 0x3f3f3f3f) & ~(low7 + 0x25252525) & 0x80808080;
      to[k] = word | (upper >>> 2);
    }
    i += words * 4;
    j += words * 4;
  }
  while (i < end) target[j++] = lowerByte(bytes[i++]!);
}

export interface Lowering {
  /** A lower-cased copy of bytes[start, end) (at most loweringWindowBytes + 64 KiB); valid until the next call. */
  lower(bytes: Uint8Array, start: number, end: number): Buffer;
  readonly simd: boolean;
}

/** The few WebAssembly names used here: the compiler's libraries (ES2023, Node) do not declare them. */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}

function simdLowering(): Lowering | undefined {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  let lower: (at: number, end: number) => void;
  let memory: { buffer: ArrayBuffer };
  try {
    if (!wasm) return undefined;
    const instance = new wasm.Instance(new wasm.Module(loweringModule()));
    lower = instance.exports.lower as typeof lower;
    memory = instance.exports.memory as typeof memory;
  } catch {
    return undefined; // no WebAssembly SIMD here
  }
  const view = new Uint8Array(memory.buffer);
  return {
    simd: true,
    lower(bytes, start, end) {
      const length = end - start;
      if (length > maxLoweredBytes) throw new RangeError(`cannot lower ${length} bytes at once`);
      view.set(bytes.subarray(start, end), 0);
      lower(0, length);
      return Buffer.from(memory.buffer, 0, length);
    },
  };
}

export function wordLowering(): Lowering {
  const scratch = Buffer.alloc(memoryPages * pageBytes + 4);
  return {
    simd: false,
    lower(bytes, start, end) {
      if (end - start > maxLoweredBytes) throw new RangeError(`cannot lower ${end - start} bytes at once`);
      const at = (bytes.byteOffset + start) & 3;
      lowerWords(bytes, start, end, scratch, at);
      return scratch.subarray(at, at + end - start);
    },
  };
}

export function createLowering(): Lowering {
  return simdLowering() ?? wordLowering();
}
