/**
 * Fixture WebAssembly modules: the smallest valid module that looks like a browser miner's hashing core, a
 * `cryptonight_hash` export plus a custom section whose name miners' build tools leave behind. Written as bytes
 * here so no binary is committed.
 */

/** Unsigned LEB128, the length encoding of every wasm section and name. */
function leb128(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest !== 0) byte |= 0x80;
    out.push(byte);
  } while (rest !== 0);
  return out;
}

function wasmName(name: string): number[] {
  const bytes = [...Buffer.from(name, 'utf8')];
  return [...leb128(bytes.length), ...bytes];
}

function section(id: number, body: number[]): number[] {
  return [id, ...leb128(body.length), ...body];
}

/** A valid module: type () -> i32, one function exported as `exportName` returning 0, one custom section. */
export function minimalWasmModule(customSectionName: string, exportName = 'cryptonight_hash'): Uint8Array {
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types = section(1, [1, 0x60, 0, 1, 0x7f]);
  const functions = section(3, [1, 0]);
  const exports = section(7, [1, ...wasmName(exportName), 0x00, 0]);
  const body = [0, 0x41, 0, 0x0b]; // no locals; i32.const 0; end
  const code = section(10, [1, ...leb128(body.length), ...body]);
  const custom = section(0, [...wasmName(customSectionName), ...Buffer.from('CryptonightWASMWrapper', 'utf8')]);
  return Uint8Array.from([...header, ...types, ...functions, ...exports, ...code, ...custom]);
}
