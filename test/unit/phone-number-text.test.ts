import { expect } from 'chai';
import fc from 'fast-check';
import { containsPhoneNumber } from '../../src/shared/phone-number-text.js';

/** Swedish numbers as national significant numbers: mobiles and landlines of several area code lengths. */
const nationalNumber = fc.oneof(
  fc.tuple(fc.constantFrom('70', '72', '73', '76', '79'), fc.stringMatching(/^[0-9]{7}$/)).map(([p, r]) => p + r),
  fc.stringMatching(/^[2-9][0-9]{6,7}$/).map((r) => '8' + r), // Stockholm
  fc.tuple(fc.constantFrom('31', '40', '46', '18', '13', '90'), fc.stringMatching(/^[2-9][0-9]{5,6}$/)).map(([a, r]) => a + r),
  fc.tuple(fc.constantFrom('470', '640', '920', '550'), fc.stringMatching(/^[1-9][0-9]{4,5}$/)).map(([a, r]) => a + r),
);

/** How people write one: 0…, +46…, +46 (0)…, 0046…, grouped with spaces, dashes, slashes, dots or nothing. */
const spelling = fc
  .tuple(
    nationalNumber,
    fc.constantFrom('0', '+46', '+46 ', '+46 (0)', '0046', '0046 ', '(0'),
    fc.constantFrom(' ', '-', '/', '.', '', ' - ', '\u00a0', '–'),
    fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 5 }),
  )
  .map(([nsn, prefix, sep, groups]) => {
    // Area code first, then the rest in groups.
    const area = nsn.startsWith('7') || nsn.startsWith('8') ? nsn.slice(0, nsn.startsWith('8') ? 1 : 2) : nsn.slice(0, nsn.length > 8 ? 3 : 2);
    const rest = nsn.slice(area.length);
    const parts: string[] = [];
    let at = 0;
    for (const g of groups) {
      if (at >= rest.length) break;
      parts.push(rest.slice(at, at + g));
      at += g;
    }
    if (at < rest.length) parts.push(rest.slice(at));
    const head = prefix === '(0' ? `(0${area})` : prefix + area;
    return head + (prefix === '(0' ? ' ' : fc.sample(fc.constantFrom('-', '/', ' ', ''), 1)[0]!) + parts.join(sep);
  });

const words = fc.constantFrom('', 'ring tillbaka ', 'Kund nås på ', 'tel: ', 'nr ', 'agent-', 'kö ', '(', 'mobil:');
const after = fc.constantFrom('', ' efter lunch', '.', ')', ', tack', ' kl 14');

describe('the one phone-number detector', () => {
  it('finds a Swedish number in any common spelling, inside any text (property)', () => {
    fc.assert(
      fc.property(words, spelling, after, (before, number, tail) => {
        expect(containsPhoneNumber(before + number + tail), JSON.stringify(before + number + tail)).to.equal(true);
      }),
      { numRuns: 2_000 },
    );
  });

  for (const text of ['046-35 50 00', '+4646355000', 'ring tillbaka 046/355000', '070-123 45 67', '+46 (0)70-123 45 67', '0046 70 123 45 67', '08-123 456 78', '08 123 45', 'tel.046.35.50.00', 'agent0701234567', '+1 (212) 555-0100']) {
    it(`finds ${JSON.stringify(text)}`, () => expect(containsPhoneNumber(text)).to.equal(true));
  }

  for (const text of ['bygglov', 'agent-17', 'Dnr 2026-1234', 'KS 2026/123', 'Tvist 2026-0042', 'legal hold, case 2026:114', 'hold until 2026-11-30 09:15', 'version 1.2.3', 'case 4711', 'Ärende 12345678']) {
    it(`leaves ${JSON.stringify(text)} alone (case numbers, dates, times are not numbers)`, () => expect(containsPhoneNumber(text)).to.equal(false));
  }
});
