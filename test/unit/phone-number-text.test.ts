import { expect } from 'chai';
import fc from 'fast-check';
import { containsPhoneNumber, identifierHoldsPhoneNumber, maskPhoneNumbers, NUMBER_MASK } from '../../src/shared/phone-number-text.js';

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

/** Every separator the issue names, alone, doubled or with spaces around. */
const SEPARATORS = [' ', '-', '.', '/', ',', '_', ':', '*', '|', '#', '(', ')', '+'];
const separator = fc.oneof(
  fc.constantFrom(...SEPARATORS, ''),
  fc.tuple(fc.constantFrom(...SEPARATORS), fc.constantFrom(...SEPARATORS)).map(([a, b]) => a + b),
  fc.constantFrom(...SEPARATORS).map((c) => ` ${c} `),
);
/** The prefixes a Swedish number is written with. */
const prefix = fc.constantFrom('0', '+46', '0046', '46', '+46 ', '0046 ', '46 ', '+46(0)');
/** ASCII, fullwidth digits, or everything fullwidth (NFKC makes each of them ASCII). */
const toWidth = (text: string, width: 'ascii' | 'digits' | 'all') =>
  width === 'ascii' ? text : [...text].map((c) => ((width === 'all' ? /[!-~]/ : /\d/).test(c) ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join('');
const width = fc.constantFrom<'ascii' | 'digits' | 'all'>('ascii', 'digits', 'all');

/** A national number, its prefix, the same separator between every group, in one width. */
const anySpelling = fc
  .tuple(nationalNumber, prefix, separator, fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 6 }), width)
  .map(([nsn, pre, sep, sizes, w]) => {
    const groups: string[] = [];
    let at = 0;
    for (const n of sizes) if (at < nsn.length) groups.push(nsn.slice(at, (at += n)));
    if (at < nsn.length) groups.push(nsn.slice(at));
    return toWidth(pre + groups.join(sep), w);
  });

describe('the one phone-number detector', () => {
  it('finds a Swedish number in any common spelling, inside any text (property)', () => {
    fc.assert(
      fc.property(words, spelling, after, (before, number, tail) => {
        expect(containsPhoneNumber(before + number + tail), JSON.stringify(before + number + tail)).to.equal(true);
      }),
      { numRuns: 2_000 },
    );
  });

  it('finds a number in every separator, prefix and width, in free text and in identifiers (property)', () => {
    fc.assert(
      fc.property(words, anySpelling, after, (before, number, tail) => {
        expect(containsPhoneNumber(before + number + tail), JSON.stringify(before + number + tail)).to.equal(true);
        expect(identifierHoldsPhoneNumber(`call-${number}`), JSON.stringify(`call-${number}`)).to.equal(true);
      }),
      { numRuns: 5_000 },
    );
  });

  it('masks every number it finds, and only the runs that hold one (property)', () => {
    fc.assert(
      fc.property(anySpelling, anySpelling, (a, b) => {
        const masked = maskPhoneNumbers(`Kund ${a} eller ${b}, KS 2026/1234`);
        expect(containsPhoneNumber(masked), masked).to.equal(false);
        expect(masked).to.match(/^Kund \[nummer\] eller \[nummer\], KS 2026\/1234$/);
      }),
      { numRuns: 1_000 },
    );
  });

  // The spellings an attack run got past the earlier filter (issue #23).
  for (const text of [
    '070,123,45,67', '070_123_45_67', '070:123:45:67', '070*123*45*67', '070|1234567', '070#1234567', '０７０１２３４５６７', 'call-0701234567', '46701234567',
    '046-35 50 00', '+4646355000', 'ring tillbaka 046/355000', '070-123 45 67', '+46 (0)70-123 45 67', '0046 70 123 45 67', '08-123 456 78', '08 123 45',
    'tel.046.35.50.00', 'agent0701234567', '+1 (212) 555-0100', '٠٧٠١٢٣٤٥٦٧', '070-1234567, 08-123456', '2026-12-07 0701234567', '08:23:45:12:34',
  ]) {
    it(`finds ${JSON.stringify(text)}`, () => expect(containsPhoneNumber(text)).to.equal(true));
  }

  it('finds both numbers in "070-1234567 eller 08-123456", two runs, and masks each', () => {
    expect(maskPhoneNumbers('070-1234567 eller 08-123456')).to.equal(`${NUMBER_MASK} eller ${NUMBER_MASK}`);
    expect(maskPhoneNumbers('ring 070-1234567, 08-123456 sen')).to.equal(`ring ${NUMBER_MASK} sen`);
  });

  // Real text that holds digits but no number: dates, times, case numbers (diarienummer), organisation numbers, queue names.
  for (const text of [
    'bygglov', 'bygglov2', 'bygglov 2', 'kö 12', 'agent-17', 'Dnr 2026-1234', 'KS 2026/123', 'KS 2026/1234', 'BN 2026-000456', 'Dnr 2026-00123', 'Dnr 2026-012345',
    'Tvist 2026-0042', 'legal hold, case 2026:114', 'SFS 2018:218', 'hold until 2026-11-30 09:15', '2026-12-07', '2026-12-07, 2026-12-14', '7.12.2026', '7/12/2026 kl 08.30',
    '08:30–09:15', '2026-12-07, 08:30-09:15', '14:05:59', 'version 1.2.3', 'case 4711', 'Ärende 12345678', 'faktura 123456', '2026.123',
    '212000-1355', '212000-0142', '212000-1124', '556012-5790', '556074-7551', '556016-0680', '556703-7485', '556042-7220', '802481-1658',
    'call-2026-12-07-0001', 'mc-2026-11-03-0042', '2026-12-07_09.15.30-call-a.mp3',
  ]) {
    it(`leaves ${JSON.stringify(text)} alone`, () => {
      expect(containsPhoneNumber(text)).to.equal(false);
      expect(maskPhoneNumbers(text)).to.equal(text);
    });
  }

  it('leaves dates, times, case numbers, organisation numbers and queue names alone (property)', () => {
    const two = (n: number) => String(n).padStart(2, '0');
    const date = fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString());
    const text = fc.oneof(
      date.map((iso) => iso.slice(0, 10)),
      date.map((iso) => `${iso.slice(0, 10)} ${iso.slice(11, 16)}`),
      date.map((iso) => `${Number(iso.slice(8, 10))}.${Number(iso.slice(5, 7))}.${iso.slice(0, 4)}`),
      fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([a, b, c, d]) => `${two(a)}:${two(b)}–${two(c)}:${two(d)}`),
      fc.tuple(fc.constantFrom('KS', 'BN', 'Dnr', 'SN', 'Dnr KS'), fc.integer({ min: 2000, max: 2099 }), fc.constantFrom('/', '-', '.', ':'), fc.integer({ min: 1, max: 99_999 }), fc.integer({ min: 1, max: 5 }))
        .map(([unit, year, sep, serial, pad]) => `${unit} ${year}${sep}${String(serial).padStart(pad, '0')}`),
      // Organisation numbers: legal-form digit, then the rest, the third digit at least 2.
      fc.tuple(fc.constantFrom('2', '5', '7', '8', '9'), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 2, max: 9 }), fc.stringMatching(/^[0-9]{3}$/), fc.stringMatching(/^[0-9]{4}$/))
        .map(([g, a, b, c, d]) => `${g}${a}${b}${c}-${d}`),
      // Ids made of a date and a serial, as platforms and seeding scripts make them.
      fc.tuple(fc.constantFrom('mc-', 'call-', ''), date, fc.integer({ min: 0, max: 9999 })).map(([p, iso, n]) => `${p}${iso.slice(0, 10)}-${String(n).padStart(4, '0')}`),
      fc.tuple(fc.constantFrom('bygglov', 'kö', 'växel', 'agent-', 'skola'), fc.constantFrom('', ' ', '-'), fc.integer({ min: 0, max: 999 })).map(([w, s, n]) => `${w}${s}${n}`),
    );
    fc.assert(fc.property(text, (t) => {
      expect(containsPhoneNumber(t), JSON.stringify(t)).to.equal(false);
    }), { numRuns: 2_000 });
  });

  it('accepts the identifiers platforms and gallra generate whole, whatever digits they hold (property)', () => {
    const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`));
    const id = fc.oneof(
      fc.uuid(),
      fc.uuid().map((u) => `hold_${u}`),
      fc.tuple(fc.constantFrom('CA', 'RE', 'AC'), hex(32)).map(([p, h]) => p + h),
      fc.tuple(fc.constantFrom('c', 's'), hex(32)).map(([p, h]) => p + h),
      hex(64),
      fc.tuple(fc.constantFrom('tok', 'sr', 'opt', 'cop', 'ses'), hex(16)).map(([p, h]) => `${p}_${h}`),
      // The same shapes holding a number somewhere in their digits.
      fc.constantFrom('07012345-6789-4abc-8def-0123456789ab', 'CA07012345670701234567070123456700', 'c07012345670701234567070123456700', '0701234567'.repeat(6) + '0701'),
    );
    fc.assert(fc.property(id, (v) => {
      expect(identifierHoldsPhoneNumber(v), v).to.equal(false);
    }), { numRuns: 1_000 });
  });
});
