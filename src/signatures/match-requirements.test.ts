import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findTokens, hasRun, patternRequirements, type MatchRequirement, type TokenRequirement } from './match-requirements.ts';

const factorsOf = (source: string, caseless = false) => {
  const requirements = patternRequirements(source, caseless);
  return requirements?.map((r) => (r.kind === 'factors' ? [...r.factors].sort() : r.kind));
};

function classOf(pattern: RegExp): Uint8Array {
  const set = new Uint8Array(256);
  for (let c = 0; c < 256; c++) set[c] = pattern.test(String.fromCharCode(c)) ? 1 : 0;
  return set;
}

describe('patternRequirements', () => {
  it('requires one of the literals of an alternation, spelled out across optional parts', () => {
    assert.deepEqual(factorsOf('stratum[12]?\\+(?:tcp|ssl)://[a-z0-9.]*', true), [
      ['stratum+ssl://', 'stratum+tcp://', 'stratum1+ssl://', 'stratum1+tcp://', 'stratum2+ssl://', 'stratum2+tcp://'],
    ]);
    assert.deepEqual(factorsOf('"method"\\s*:\\s*"(?:getjob|keepalived)"'), [['"method"']]);
  });

  it('gives one requirement per top-level alternative, folding case when the list ignores it', () => {
    assert.deepEqual(factorsOf('XMRig|CoinHive\\.Anonymous', true), [['xmrig'], ['coinhive.anonymous']]);
    assert.deepEqual(factorsOf('XMRig|CoinHive\\.Anonymous', false), [['XMRig'], ['CoinHive.Anonymous']]);
  });

  it('keeps only the shortest of factors that contain one another', () => {
    assert.deepEqual(factorsOf('randomx_calculate_hash(?:_first|_next)?'), [['randomx_calculate_hash']]);
  });

  it('reads a fenced wallet address as a whole token of bounded length, with the classes its lookaheads demand', () => {
    const [requirement] = patternRequirements('(?<![0-9A-Za-z])[13](?=[0-9A-Za-z]*[1-9])[1-9A-HJ-NP-Za-km-z]{25,34}(?![0-9A-Za-z])', false)!;
    assert.equal(requirement!.kind, 'token');
    const token = requirement as TokenRequirement;
    assert.deepEqual([token.minLength, token.maxLength], [26, 35]);
    assert.deepEqual(token.edge, classOf(/[0-9A-Za-z]/));
    assert.deepEqual(token.mustContain, [classOf(/[1-9]/)]);
  });

  it('falls back to a run of characters when no lookaround fences the pattern', () => {
    const [requirement] = patternRequirements('0x[0-9a-f]{40}', false)!;
    assert.equal(requirement!.kind, 'run');
    assert.equal(requirement!.minLength, 42);
  });

  it('gives up (the expression then always runs) on what it cannot read or bound', () => {
    for (const source of ['(a)\\1', 'a{', '\\p{L}', '[]a', '.*', 'ab', '(?:'.repeat(20_000) + 'abc' + ')'.repeat(20_000), '[\\d-z]abc', '\\cJabc', 'x|.*']) {
      assert.equal(patternRequirements(source, false), undefined, source);
    }
  });

  it('never demands a factor under a quantifier that allows zero repetitions', () => {
    assert.deepEqual(factorsOf('(?:stratum)?pool'), [['pool']]);
    assert.deepEqual(factorsOf('(?:stratum)*x'), undefined);
  });

  // Soundness: every match the expression finds satisfies one of the requirements read from it.
  it('derives requirements that every real match satisfies', () => {
    const cases: [string, boolean, string[]][] = [
      ['stratum[12]?\\+(?:tcp|ssl|tls|udp)://[a-z0-9._-]*(?::[0-9]{1,5})?', true, ['STRATUM+TCP://pool.x:3333', 'Stratum2+ssl://']],
      ['(?<![a-z])(?:cryptonight|randomx|autolykos2?)(?![a-z])', true, ['RandomX', 'AUTOLYKOS2', 'x cryptonight.']],
      ['(?<![A-Za-z0-9_/])(?:rx/(?:0|wow)|cn/(?:r|0)|cn-(?:lite|heavy)(?:/[0-9a-z]+)?)(?![A-Za-z0-9_])', true, ['RX/0', ' cn-heavy/xhv ', 'CN/R']],
      ['(?<![0-9A-Za-z])bc1[ac-hj-np-z02-9]{38,58}(?![0-9A-Za-z])', false, ['bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq']],
      ['(?<![0-9A-Za-z])[48][0-9AB][1-9A-HJ-NP-Za-km-z]{93}(?:[1-9A-HJ-NP-Za-km-z]{11})?(?![0-9A-Za-z])', false, ['44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A']],
    ];
    for (const [source, caseless, samples] of cases) {
      const requirements = patternRequirements(source, caseless)!;
      assert.ok(requirements, source);
      const matcher = new RegExp(source, caseless ? 'gi' : 'g');
      for (const sample of samples) {
        const text = `..${sample}..`;
        assert.ok(matcher.test(text), `${source} should match ${sample}`);
        matcher.lastIndex = 0;
        const bytes = Buffer.from(text, 'latin1');
        assert.ok(requirements.some((r) => satisfied(r, bytes, caseless)), `${sample} satisfies a requirement of ${source}`);
      }
    }
  });
});

function satisfied(requirement: MatchRequirement, bytes: Buffer, caseless: boolean): boolean {
  if (requirement.kind === 'run') return hasRun(bytes, requirement.chars, requirement.minLength);
  if (requirement.kind === 'token') return findTokens(bytes, [requirement]).has(requirement);
  const text = bytes.toString('latin1');
  return requirement.factors.some((f) => (caseless ? text.toLowerCase() : text).includes(f));
}

describe('hasRun', () => {
  const digits = classOf(/[0-9]/);
  it('finds a run of exactly the length asked for, at either end of the bytes', () => {
    assert.equal(hasRun(Buffer.from('12345xx'), digits, 5), true);
    assert.equal(hasRun(Buffer.from('xx12345'), digits, 5), true);
    assert.equal(hasRun(Buffer.from('x1234x1234x'), digits, 5), false);
    assert.equal(hasRun(Buffer.from(''), digits, 1), false);
  });
});

describe('findTokens', () => {
  const token = (minLength: number, maxLength: number, mustContain: RegExp[] = []): TokenRequirement => ({
    kind: 'token',
    edge: classOf(/[0-9A-Za-z]/),
    chars: classOf(/[0-9a-f]/),
    minLength,
    maxLength,
    mustContain: mustContain.map(classOf),
  });

  it('finds a whole token between non-edge bytes, and not a longer run that contains one', () => {
    const six = token(6, 6);
    assert.deepEqual(findTokens(Buffer.from('..abc123..'), [six]), new Set([six]));
    assert.deepEqual(findTokens(Buffer.from('abc123'), [six]), new Set([six]));
    assert.deepEqual(findTokens(Buffer.from('abc1234'), [six]), new Set());
    assert.deepEqual(findTokens(Buffer.from('zabc123'), [six]), new Set(), 'z is edge but not a token character');
  });

  it('demands a byte of each class the lookaheads name', () => {
    const needsDigit = token(4, 8, [/[0-9]/]);
    assert.deepEqual(findTokens(Buffer.from(' abcdef '), [needsDigit]), new Set());
    assert.deepEqual(findTokens(Buffer.from(' abcde5 '), [needsDigit]), new Set([needsDigit]));
  });

  it('settles several tokens of one edge in one pass over hostile bytes', () => {
    const [short, long] = [token(4, 5), token(40, 40)];
    const bytes = Buffer.concat([Buffer.alloc(100_000, 0xff), Buffer.from(' cafe '), Buffer.alloc(100_000, 'a'), Buffer.from(` ${'f'.repeat(40)} `)]);
    assert.deepEqual(findTokens(bytes, [short, long]), new Set([short, long]));
  });
});
