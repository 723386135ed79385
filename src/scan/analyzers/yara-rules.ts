/**
 * YARA rules: the compiled YARA-X rule set run over a file's bytes. A rule's meta decides the signal: `strength`
 * (conclusive | strong | weak; strong when absent), `severity`, `description`. A scan that exceeds its time budget
 * yields a weak signal rather than failing the layer, since a hostile file must not hide the rest of the image.
 */
import { isNomineError } from '../../core/errors.ts';
import { isSeverity } from '../../core/severity.ts';
import type { FileAnalyzer } from '../file-analyzer.ts';
import type { Signal, SignalStrength } from '../signal.ts';
import { isContentCandidate } from './content-candidate.ts';
import { fileLocation } from './file-location.ts';

const strengths: readonly SignalStrength[] = ['conclusive', 'strong', 'weak'];

function isStrength(value: unknown): value is SignalStrength {
  return typeof value === 'string' && (strengths as readonly string[]).includes(value);
}

export const yaraRules: FileAnalyzer = {
  id: 'yara',
  version: 1,
  wants: isContentCandidate,
  analyze(file, signatures) {
    if (signatures.yara.ruleCount === 0) return [];
    const location = fileLocation(file);
    let matches;
    try {
      matches = signatures.yara.scan(file.bytes);
    } catch (error) {
      if (isNomineError(error) && error.code === 'timeout') {
        return [{ analyzer: 'yara', rule: 'yara.timeout', strength: 'weak', summary: error.message, location }];
      }
      throw error;
    }
    return matches.map((match): Signal => {
      const { strength, severity, description } = match.meta;
      const patterns = match.patterns
        .slice(0, 6)
        .map((p) => `${p.identifier}@0x${(p.offsets[0] ?? 0).toString(16)}`)
        .join(', ');
      const what = typeof description === 'string' ? description : `YARA rule ${match.rule}`;
      return {
        analyzer: 'yara',
        rule: `yara.${match.rule}`,
        strength: isStrength(strength) ? strength : 'strong',
        ...(typeof severity === 'string' && isSeverity(severity) ? { severity } : {}),
        summary: `${what} (rule ${match.rule} in ${match.namespace}${patterns ? `; ${patterns}` : ''})`,
        location,
      };
    });
  },
};
