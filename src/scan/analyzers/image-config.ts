/**
 * Image metadata analysis: the config says what the image runs before any layer is read. An entrypoint or command
 * that starts a miner, pool URLs, wallets and miner options in the command, environment, labels or build history
 * (`created_by`), and image names on the known-miner list. Pure: the caller passes names and config.
 */
import type { ImageConfig } from '../image-source.ts';
import type { Signal } from '../signal.ts';
import type { Signatures } from '../../signatures/signatures.ts';
import { findKeywords } from '../../signatures/keyword-matcher.ts';
import { imageRepository } from './image-name.ts';
import { findPoolEndpoints } from './pool-endpoints.ts';

const analyzer = 'image-config';
/** The keyword list naming miner programs; a hit where the image starts or builds something is strong. */
const minerProgramList = 'miner-program';

interface ConfigText {
  where: string;
  text: string;
  /** Entrypoint, Cmd and RUN steps execute; a miner name there is what the image does, not a mention. */
  executes: boolean;
}

function configTexts(config: ImageConfig): ConfigText[] {
  const texts: ConfigText[] = [];
  const c = config.config ?? {};
  const argv = [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])];
  if (argv.length > 0) texts.push({ where: 'config/Entrypoint+Cmd', text: argv.join(' '), executes: true });
  (c.Env ?? []).forEach((env, i) => texts.push({ where: `config/Env[${i}]`, text: env, executes: false }));
  for (const [key, value] of Object.entries(c.Labels ?? {})) {
    texts.push({ where: `config/Labels/${key}`, text: `${key}=${value}`, executes: false });
  }
  (config.history ?? []).forEach((step, i) => {
    if (step.created_by) texts.push({ where: `history[${i}].created_by`, text: step.created_by, executes: true });
  });
  return texts;
}

export function analyzeImageConfig(image: { names: string[]; config: ImageConfig }, signatures: Signatures): Signal[] {
  const signals: Signal[] = [];
  const repositories = [...new Set(image.names.map(imageRepository))];
  const minerProgram = signatures.keywords.find((list) => list.id === minerProgramList);

  for (const repository of repositories) {
    const known = signatures.minerImages.get(repository);
    if (known) {
      signals.push({
        analyzer,
        rule: 'image-config.known-miner-image',
        strength: 'conclusive',
        summary: `image ${repository} is on the known-miner image list${known.family ? ` (${known.family})` : ''} from ${known.source}${known.reference ? `; ${known.reference}` : ''}`,
        location: { path: 'image name' },
      });
      continue;
    }
    const hit = minerProgram && findKeywords(minerProgram, repository.replace(/[/_]/g, ' '));
    if (hit) {
      signals.push({
        analyzer,
        rule: 'image-config.miner-named-image',
        strength: 'strong',
        summary: `image name ${repository} names a miner (${hit.examples.join(', ')})`,
        location: { path: 'image name' },
      });
    }
  }

  // One signal per rule: the first place it was seen, with the count of further places.
  const seen = new Map<string, { signal: Signal; places: number }>();
  const add = (signal: Signal): void => {
    const existing = seen.get(signal.rule);
    if (existing) existing.places++;
    else seen.set(signal.rule, { signal, places: 1 });
  };
  for (const { where, text, executes } of configTexts(image.config)) {
    const location = { path: where };
    for (const list of signatures.keywords) {
      if (!list.scopes.includes('image-config')) continue;
      const hits = findKeywords(list, text);
      if (!hits) continue;
      const examples = hits.examples.map((e) => JSON.stringify(e)).join(', ');
      if (list.id === minerProgramList && executes) {
        add({ analyzer, rule: 'image-config.runs-miner', strength: 'strong', summary: `${where} runs or installs a miner program ${examples}`, location });
      } else {
        add({
          analyzer,
          rule: `image-config.${list.id}`,
          strength: list.strength,
          ...(list.severity ? { severity: list.severity } : {}),
          summary: `${where} contains ${list.summary} ${examples}`,
          location,
        });
      }
    }
    const endpoints = findPoolEndpoints(text, signatures.stratumPorts);
    if (endpoints.length > 0) {
      add({ analyzer, rule: 'image-config.stratum-port', strength: 'weak', summary: `${where} names host:port on a common mining pool port: ${endpoints.join(', ')}`, location });
    }
  }
  for (const { signal, places } of seen.values()) {
    signals.push(places > 1 ? { ...signal, summary: `${signal.summary} (and ${places - 1} more places)` } : signal);
  }
  return signals;
}
