/**
 * Signature bundles: what loading read from the signature files (entries, keyword lists, YARA sources), in a form
 * that crosses to worker threads by structured clone, and the one function that builds the matchers from it. The
 * scanner's main thread loads and validates the files once; its workers build from the bundle, so they neither
 * re-read the files (an edit mid-scan cannot mix verdicts) nor load the YAML parser and the schema library (~20 MB
 * resident each).
 */
import { fileAnalyzers } from '../scan/analyzers/index.ts';
import { buildKeywordPrefilter } from './keyword-prefilter.ts';
import { KeywordRules } from './keyword-rules.ts';
import { buildMarkerRules } from './marker-rules.ts';
import type { FuzzyEntry, HashEntry, KeywordList, MinerImage, Signatures } from './signatures.ts';
import { compileYara, type YaraSourceFile } from './yara-engine.ts';

export interface SignatureBundle {
  version: string;
  files: readonly string[];
  hashes: ReadonlyMap<string, HashEntry>;
  fuzzy: readonly FuzzyEntry[];
  keywords: readonly KeywordList[];
  stratumPorts: ReadonlySet<number>;
  minerImages: ReadonlyMap<string, MinerImage>;
  yaraFiles: readonly YaraSourceFile[];
}

type Matchers = Pick<Signatures, 'yara' | 'keywordPrefilter' | 'keywordRules' | 'markerRules'>;

/**
 * The signatures of a bundle. Their matchers are built on first use: a scan the layer cache answers needs only
 * the version, and building them (keyword analysis, YARA compilation) is a tenth of such a scan. Building throws
 * a NomineError naming file and line for an invalid YARA file; `buildNow` makes that happen here instead.
 */
export function signaturesFromBundle(bundle: SignatureBundle, options: { buildNow?: boolean } = {}): Signatures {
  let matchers: Matchers | undefined;
  const built = (): Matchers => (matchers ??= buildMatchers(bundle));
  if (options.buildNow) built();
  return {
    version: bundle.version,
    files: bundle.files,
    hashes: bundle.hashes,
    fuzzy: bundle.fuzzy,
    keywords: bundle.keywords,
    stratumPorts: bundle.stratumPorts,
    minerImages: bundle.minerImages,
    get yara() {
      return built().yara;
    },
    get keywordPrefilter() {
      return built().keywordPrefilter;
    },
    get keywordRules() {
      return built().keywordRules;
    },
    get markerRules() {
      return built().markerRules;
    },
  };
}

function buildMatchers(bundle: SignatureBundle): Matchers {
  const keywordPrefilter = buildKeywordPrefilter(bundle.keywords, bundle.stratumPorts);
  const keywordRules = KeywordRules.compile(keywordPrefilter);
  // The analyzers' markers and the keyword rules ride along in the rule files' pass, so the analyzers share one
  // scan of a program.
  const markers = buildMarkerRules(Object.values(fileAnalyzers));
  const generated = {
    source: [markers.source, ...keywordPrefilter.rules.map((rule) => rule.nocaseSource)].join('\n'),
    names: [...markers.rules.values(), ...keywordPrefilter.rules.map((rule) => rule.name)],
  };
  return {
    yara: compileYara(bundle.yaraFiles, undefined, generated),
    keywordPrefilter,
    ...(keywordRules ? { keywordRules } : {}),
    markerRules: markers.rules,
  };
}
