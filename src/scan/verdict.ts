/**
 * Verdict: combines the signals about one file (or one image's metadata) into malicious / suspicious / clean.
 * Pure and deterministic, so the policy is one readable table:
 *
 *   any conclusive signal (known hash, miner YARA rule, known-miner image)      → malicious, critical
 *   strong signals from two different rules, or one strong and a packer signal   → malicious, high
 *   one strong rule                                                              → suspicious, medium
 *   weak signals from three different analyzers (e.g. elf + packer + entropy)    → suspicious, low
 *   anything less                                                                → clean
 *
 * Weak signals are counted by analyzer, not by rule: stripped + static + few imports all come from the ELF reader
 * and describe one fact ("a self-contained binary"), which most of /usr/bin shares. A severity a rule declares for
 * itself (YARA meta `severity`) can raise, never lower, the severity of a verdict it contributed to.
 */
import { maxSeverity, type Severity } from '../core/severity.ts';
import type { Signal, Verdict } from './signal.ts';

export interface VerdictDecision {
  verdict: Verdict;
  severity: Severity;
  /** The signals that decided it, as `rule: summary`, strongest first. */
  reasons: string[];
}

function reason(signal: Signal): string {
  return `${signal.rule}: ${signal.summary}`;
}

function decide(verdict: Verdict, derived: Severity, contributors: Signal[]): VerdictDecision {
  const declared = contributors.map((s) => s.severity).filter((s): s is Severity => s !== undefined);
  return { verdict, severity: maxSeverity([derived, ...declared]) ?? derived, reasons: contributors.map(reason) };
}

/** First signal per rule, so one rule firing in many places counts once. */
function distinctByRule(signals: Signal[]): Signal[] {
  const byRule = new Map<string, Signal>();
  for (const signal of signals) if (!byRule.has(signal.rule)) byRule.set(signal.rule, signal);
  return [...byRule.values()];
}

export function isPackerSignal(signal: Signal): boolean {
  return signal.rule.startsWith('packer.');
}

export function decideVerdict(signals: Signal[]): VerdictDecision {
  const conclusive = distinctByRule(signals.filter((s) => s.strength === 'conclusive'));
  if (conclusive.length > 0) return decide('malicious', 'critical', conclusive);

  const strong = distinctByRule(signals.filter((s) => s.strength === 'strong'));
  // A weak packer signal adds to the strong ones; a strong packer signal (tampered UPX) is already among them.
  const packed = distinctByRule(signals.filter((s) => s.strength === 'weak' && isPackerSignal(s)));
  if (strong.length >= 2 || (strong.length === 1 && packed.length > 0)) {
    return decide('malicious', 'high', [...strong, ...(strong.length >= 2 ? [] : packed)]);
  }
  if (strong.length === 1) return decide('suspicious', 'medium', strong);

  const weak = distinctByRule(signals.filter((s) => s.strength === 'weak'));
  const kinds = new Set(weak.map((s) => s.analyzer));
  if (kinds.size >= 3) return decide('suspicious', 'low', weak);
  return { verdict: 'clean', severity: 'info', reasons: [] };
}
