import { expect } from 'chai';
import fc from 'fast-check';
import picomatch from 'picomatch';
import { compilePolicy, type PolicyRule } from '../../src/retention-policy/index.js';

const CEILING = 30;
const fold = (v: string) => v.normalize('NFC').toLocaleLowerCase('sv-SE');

describe('retention policy rules: which rule decides', () => {
  it('an exact name beats a glob, a longer glob a shorter one, and between equals the shortest retention wins', () => {
    const resolve = compilePolicy(
      [
        { match: { queue: 'bygg*' }, retainDays: 10 },
        { match: { queue: 'byggl*' }, retainDays: 20 },
        { match: { queue: 'Bygglov' }, retainDays: 25 },
        { match: { queue: 'bygglov' }, retainDays: 14 },
        { match: { queue: 'soc*' }, retainDays: 5 },
        { match: { queue: 'so?*' }, record: false },
      ],
      CEILING,
    );
    expect(resolve('BYGGLOV')).to.deep.equal({ record: true, retainDays: 14, rule: 'bygglov' });
    expect(resolve('bygglovsfrågor')).to.deep.equal({ record: true, retainDays: 20, rule: 'byggl*' });
    expect(resolve('byggnad')).to.deep.equal({ record: true, retainDays: 10, rule: 'bygg*' });
    expect(resolve('socialtjänst')).to.deep.equal({ record: false, retainDays: 0, rule: 'so?*' });
    expect(resolve('parkering')).to.deep.equal({ record: true, retainDays: CEILING, rule: null });
    expect(resolve(null)).to.deep.equal({ record: true, retainDays: CEILING, rule: null });
  });

  it('compares names after Swedish case folding (Socialtjänst = socialtjänst = SOCIALTJÄNST)', () => {
    const resolve = compilePolicy([{ match: { queue: 'Socialtjänst' }, record: false }, { match: { queue: 'ÄLDRE*' }, retainDays: 7 }], CEILING);
    for (const q of ['socialtjänst', 'SOCIALTJÄNST', 'Socialtja\u0308nst']) expect(resolve(q).record, q).to.equal(false);
    expect(resolve('äldreomsorg').retainDays).to.equal(7);
  });

  describe('over random rule sets (fast-check)', () => {
    const letters = fc.constantFrom('a', 'b', 'å', 'Å', 'ä', 'B');
    const word = fc.array(letters, { minLength: 1, maxLength: 4 }).map((cs) => cs.join(''));
    const rule: fc.Arbitrary<PolicyRule> = fc
      .record({
        pattern: fc.oneof(word, word.map((w) => `${w}*`), word.map((w) => `${w}?`), word.map((w) => `*${w}`)),
        days: fc.oneof(fc.integer({ min: 1, max: CEILING }), fc.constant(0)),
      })
      .map(({ pattern, days }) => (days === 0 ? { match: { queue: pattern }, record: false } : { match: { queue: pattern }, retainDays: days }));

    /** The specification, written out plainly: the most specific matching rules, and the shortest of them. */
    function expected(rules: PolicyRule[], queue: string): number {
      const q = fold(queue);
      const days = (r: PolicyRule) => (r.record === false ? 0 : r.retainDays);
      const isGlob = (p: string) => /[*?[{]/.test(p);
      const exact = rules.filter((r) => !isGlob(r.match.queue) && fold(r.match.queue) === q);
      if (exact.length) return Math.min(...exact.map(days));
      const globs = rules.filter((r) => isGlob(r.match.queue) && picomatch.isMatch(q, fold(r.match.queue), { dot: true }));
      if (!globs.length) return CEILING;
      const longest = Math.max(...globs.map((r) => r.match.queue.length));
      return Math.min(...globs.filter((r) => r.match.queue.length === longest).map(days));
    }

    it('never keeps longer than the shortest of the most specific matching rules, never beyond the ceiling, and RETENTION_DAYS without a match', () => {
      fc.assert(
        fc.property(fc.array(rule, { maxLength: 12 }), word, (rules, queue) => {
          const got = compilePolicy(rules, CEILING)(queue);
          const want = expected(rules, queue);
          expect(got.retainDays).to.equal(want);
          expect(got.retainDays).to.be.at.most(CEILING);
          expect(got.record).to.equal(want > 0);
          if (got.rule === null) expect(got.retainDays).to.equal(CEILING);
        }),
        { numRuns: 2000 },
      );
    });

    it('gives the same answer whatever the order of the rules', () => {
      fc.assert(
        fc.property(fc.array(rule, { maxLength: 10 }), word, fc.infiniteStream(fc.nat()), (rules, queue, seeds) => {
          const shuffled = [...rules].sort(() => (seeds.next().value % 3) - 1);
          expect(compilePolicy(shuffled, CEILING)(queue).retainDays).to.equal(compilePolicy(rules, CEILING)(queue).retainDays);
        }),
        { numRuns: 500 },
      );
    });
  });
});
