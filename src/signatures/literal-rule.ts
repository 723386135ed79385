/**
 * Literal rules: the YARA source of a generated rule that matches when any of a few literal strings occurs. The
 * strings are latin1 (one character per byte); letters, digits and a few safe characters are written as is, every
 * other byte as \xHH, so quotes, backslashes and NULs cannot break out of the string.
 */

function yaraText(value: string): string {
  let out = '';
  for (const char of value) {
    const code = char.charCodeAt(0);
    if (code > 0xff) throw new RangeError(`not a latin1 string: ${JSON.stringify(value)}`);
    out += /[A-Za-z0-9 _.,:;\/+=@-]/.test(char) ? char : `\\x${code.toString(16).padStart(2, '0')}`;
  }
  return `"${out}"`;
}

/** `caseless`: ASCII letters match in either case (YARA's `nocase`). */
export function literalRule(name: string, literals: readonly string[], caseless: boolean): string {
  const strings = literals.map((literal, i) => `    $s${i} = ${yaraText(literal)}${caseless ? ' nocase' : ''}`);
  return `rule ${name}\n{\n  strings:\n${strings.join('\n')}\n  condition:\n    any of them\n}\n`;
}
