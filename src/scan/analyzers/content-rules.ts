/**
 * Content rules: the keyword lists (pool hosts, stratum URLs and methods, miner options, wallet addresses,
 * algorithm names) matched over a file's bytes read as latin1, one signal per list that matched, at the list's
 * strength. Host:port pairs on a stratum port add a weak signal. A list's expression runs only where the keyword
 * prefilter (its rules' native pass: see keyword-prefilter.ts) says it may match; without a prefilter, or when the
 * pass failed, every list runs, as the expressions alone decide what matches either way.
 */
import type { FileAnalyzer } from '../file-analyzer.ts';
import type { Signal } from '../signal.ts';
import { findKeywords } from '../../signatures/keyword-matcher.ts';
import { portsPossible, ruledOutLists } from '../../signatures/keyword-prefilter.ts';
import type { Signatures } from '../../signatures/signatures.ts';
import type { FileContent } from '../layer-entry.ts';
import { contentScan, keywordRulesMatched } from './content-scan.ts';
import { isContentCandidate } from './content-candidate.ts';
import { fileLocation } from './file-location.ts';
import { findPoolEndpoints } from './pool-endpoints.ts';
import { isYaraCandidate } from './yara-rules.ts';

/** The generated rules that matched in the rule files' pass, when it holds the keyword rules and succeeded. */
function rulePassMatched(file: FileContent, signatures: Signatures): ReadonlySet<string> | undefined {
  try {
    return contentScan(file, signatures).generated;
  } catch {
    return undefined; // the YARA analyzer reports the failed pass
  }
}

/** Which lists (by id) cannot match in `file`, and whether stratum ports may; undefined: all may. */
function prefiltered(file: FileContent, signatures: Signatures): { ruledOut: ReadonlySet<string>; ports: boolean } | undefined {
  const prefilter = signatures.keywordPrefilter;
  if (!prefilter) return undefined;
  // A program gets the YARA rule files' pass anyway, and the keyword rules ride along in it.
  let matched = signatures.yara && isYaraCandidate({ entry: file.entry, head: file.bytes.subarray(0, 4096) }) ? rulePassMatched(file, signatures) : undefined;
  matched ??= keywordRulesMatched(file, signatures);
  if (!matched) return undefined;
  return { ruledOut: ruledOutLists(prefilter, matched, file.bytes), ports: portsPossible(prefilter, matched) };
}

export const contentRules: FileAnalyzer = {
  id: 'content-rules',
  version: 1,
  wants: isContentCandidate,
  analyze(file, signatures) {
    const possible = prefiltered(file, signatures);
    // The latin1 copy (one character per byte) is made only for a file some expression must read.
    let text: string | undefined;
    const read = () => (text ??= file.bytes.toString('latin1'));
    const location = fileLocation(file);
    const signals: Signal[] = [];
    for (const list of signatures.keywords) {
      if (!list.scopes.includes('files')) continue;
      if (possible?.ruledOut.has(list.id)) continue;
      const hits = findKeywords(list, read());
      if (!hits) continue;
      const more = hits.count > hits.examples.length ? ` (${hits.count}${hits.count >= 1000 ? '+' : ''} matches)` : '';
      signals.push({
        analyzer: 'content-rules',
        rule: `keyword.${list.id}`,
        strength: list.strength,
        ...(list.severity ? { severity: list.severity } : {}),
        summary: `contains ${list.summary} ${hits.examples.map((e) => JSON.stringify(e)).join(', ')} at offset 0x${hits.firstOffset.toString(16)}${more}`,
        location,
      });
    }
    const endpoints = signatures.stratumPorts.size > 0 && (!possible || possible.ports) ? findPoolEndpoints(read(), signatures.stratumPorts) : [];
    if (endpoints.length > 0) {
      signals.push({
        analyzer: 'content-rules',
        rule: 'keyword.stratum-port',
        strength: 'weak',
        summary: `contains host:port on a common mining pool port: ${endpoints.join(', ')}`,
        location,
      });
    }
    return signals;
  },
};
