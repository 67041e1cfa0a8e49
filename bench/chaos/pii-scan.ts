/**
 * The fault drills' PII scan: finds the drill's own phone numbers, in any spelling a person or a phone
 * system writes, and caller keys, in whatever a drill leaves (a pg_dump, SQLite files, JSON logs, JSON
 * documents, objects), and says where each one is.
 *
 * Deliberately independent of the product's number detector (src/shared/phone-number-text.ts and
 * libphonenumber): it imports nothing from src/, so a bug there cannot blind the check of that code.
 * It does not need to recognise numbers in general either: it knows every number the drill used and
 * looks for their nine national digits (NSN) in every run of digits, whatever surrounds the run.
 *
 * What it will not read as a number, because gallra itself makes it: the inside of a long hex token
 * (caller keys, SHA-256 hashes, ids like opt_<16 hex>), UUIDs, and digits joined across a COPY field
 * tab, a JSON string boundary or a line break (each field, string and line is searched on its own).
 */

/** One place a number or caller key was found. `text` is masked: every digit but the last two is `*`. */
export interface PiiHit {
  kind: 'number' | 'caller key';
  /** 1-based line of the file. */
  line: number;
  /** Where on that line: `COPY public.recordings column 7 (caller_key)`, `JSON /caller`, `text` or `binary`; a JSON path inside a field is appended. */
  where: string;
  text: string;
}

export interface ScanTargets {
  /** The nine digits after +46 of every number used (or, generally, each number's national significant number). */
  nsns: Set<string>;
  /** Caller keys (64 lowercase hex) to look for; none when empty. */
  callerKeys?: Set<string>;
}

/** Any decimal digit Unicode knows (ASCII, fullwidth, Arabic-Indic, mathematical …). */
const DIGIT = String.raw`\p{Nd}`;
/** What people and phone systems put between digits: spaces (also no-break and thin), dashes, dots, slashes, brackets, in ASCII and fullwidth. Never a tab or line break. */
const SEP = String.raw`[ \u00A0\u2007\u2009\u202F\u3000.\-\u2010-\u2015\u2212/()\uFF08\uFF09\uFF0D\uFF0E\uFF0F]`;
/** A run of digits with at most three separator characters between neighbours ("+46 (0)70-123 45 67" is one run). */
const DIGIT_RUN = new RegExp(`${DIGIT}(?:${SEP}{0,3}${DIGIT})*`, 'gu');
const IS_DIGIT = new RegExp(`^${DIGIT}$`, 'u');

/** gallra's own tokens, blanked before numbers are searched for. */
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
/** opt_, cop_, ses_, sr_, tok_ ids: a short hex tail after a fixed prefix. */
const PREFIXED_ID = /(?<![0-9A-Za-z])(?:opt|cop|ses|sr|tok)_[0-9a-f]{12,16}(?![0-9A-Za-z])/g;
/** A hex run this long is a key or hash, not something a person wrote ("CA0701234567ab" is 14). */
const HEX_RUN = /[0-9a-fA-F]{20,}/g;

/**
 * Blanks (with `_`, keeping every offset) UUIDs, prefixed ids, and the inside of every long hex run:
 * from its first letter a–f to its last. Digits at either end of a hex run stay searchable: in a
 * SQLite page a number stored next to a caller key has no separator between them.
 */
export function blankTokens(text: string): string {
  const blank = (m: string) => '_'.repeat(m.length);
  return text
    .replace(UUID, blank)
    .replace(PREFIXED_ID, blank)
    .replace(HEX_RUN, (run) => {
      const first = run.search(/[a-fA-F]/);
      if (first < 0) return run;
      let last = run.length - 1;
      while (!/[a-fA-F]/.test(run[last]!)) last--;
      return run.slice(0, first) + '_'.repeat(last - first + 1) + run.slice(last + 1);
    });
}

/** The value 0–9 of a Unicode decimal digit: digits come in runs of ten code points, 0 first. */
function digitValue(ch: string): string {
  let cp = ch.codePointAt(0)!;
  if (cp <= 0x39) return ch;
  let k = 0;
  while (IS_DIGIT.test(String.fromCodePoint(cp - 1))) {
    cp--;
    k++;
  }
  return String(k % 10);
}

/** Every digit but the last two replaced by `*`; separators and letters kept. */
export function maskDigits(text: string): string {
  const chars = [...text];
  let keep = 2;
  for (let i = chars.length - 1; i >= 0; i--) {
    if (!IS_DIGIT.test(chars[i]!)) continue;
    if (keep > 0) keep--;
    else chars[i] = '*';
  }
  return chars.join('');
}

/** The numbers in one field: each place one of `nsns` occurs as nine consecutive digits of a digit run. */
export function numbersInField(field: string, nsns: Set<string>): string[] {
  const found: string[] = [];
  if (!nsns.size) return found;
  const searchable = blankTokens(field);
  for (const m of searchable.matchAll(DIGIT_RUN)) {
    const run = m[0];
    const digits: string[] = [];
    const at: number[] = []; // offset in `run` of each digit
    let i = 0;
    for (const ch of run) {
      if (IS_DIGIT.test(ch)) {
        digits.push(digitValue(ch));
        at.push(i);
      }
      i += ch.length;
    }
    if (digits.length < 9) continue;
    const all = digits.join('');
    for (let d = 0; d + 9 <= all.length; d++) {
      if (!nsns.has(all.slice(d, d + 9))) continue;
      // What was written: up to four digits of prefix (+46, 0046, 0) and the nine.
      const from = at[Math.max(0, d - 4)]!;
      const to = at[d + 8]! + (run.codePointAt(at[d + 8]!)! > 0xffff ? 2 : 1);
      const start = from === 0 && m.index! > 0 && '+＋'.includes(field[m.index! - 1]!) ? -1 : 0;
      found.push(maskDigits(field.slice(m.index! + from + start, m.index! + to)));
    }
  }
  return found;
}

function callerKeysInField(field: string, keys: Set<string>): string[] {
  const found: string[] = [];
  if (!keys.size) return found;
  for (const [run] of field.matchAll(/[0-9a-fA-F]{64,}/g)) {
    for (let i = 0; i + 64 <= run.length; i++) {
      const candidate = run.slice(i, i + 64).toLowerCase();
      if (keys.has(candidate)) found.push(`${'*'.repeat(8)}…${candidate.slice(-2)}`);
    }
  }
  return found;
}

/** PostgreSQL's text COPY format: backslash escapes inside a field. */
function unescapeCopy(field: string): string {
  return field.replace(/\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.))/g, (_, oct: string | undefined, hex: string | undefined, c: string | undefined) => {
    if (oct) return String.fromCharCode(parseInt(oct, 8));
    if (hex) return String.fromCharCode(parseInt(hex, 16));
    return ({ b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' } as Record<string, string>)[c!] ?? c!;
  });
}

/** JSON text, or undefined. Only objects and arrays count: a bare number or string is searched as text. */
function parseJson(text: string): unknown {
  const t = text.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return undefined;
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
}

/** Every string (keys too) and integer of a JSON value, each with its JSON pointer. */
function* jsonFields(value: unknown, pointer = ''): Generator<[string, string]> {
  if (typeof value === 'string') yield [pointer || '/', value];
  else if (typeof value === 'number') {
    // A number with a fraction or an exponent is a measurement, not a phone number.
    if (Number.isSafeInteger(value)) yield [pointer || '/', String(value)];
  } else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) yield* jsonFields(v, `${pointer}/${i}`);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const p = `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      yield [`${p} (key)`, k];
      yield* jsonFields(v, p);
    }
  }
}

/**
 * Searches one file's text. A `COPY … FROM stdin;` block (pg_dump) is read row by row, field by field
 * (a hit names the table, the column's index and name); a line or a whole document that is JSON is read
 * string by string (a hit names the JSON pointer); anything else line by line. `binary` only labels
 * hits (a SQLite page has no lines or fields to name).
 */
export function scanText(text: string, targets: ScanTargets, opts: { binary?: boolean } = {}): PiiHit[] {
  const hits: PiiHit[] = [];
  const keys = targets.callerKeys ?? new Set<string>();
  const field = (line: number, where: string, value: string) => {
    for (const t of numbersInField(value, targets.nsns)) hits.push({ kind: 'number', line, where, text: t });
    for (const t of callerKeysInField(value, keys)) hits.push({ kind: 'caller key', line, where, text: t });
  };
  const fieldOrJson = (line: number, where: string, value: string) => {
    const json = parseJson(value);
    if (json === undefined) return field(line, where, value);
    for (const [p, v] of jsonFields(json)) field(line, `${where} ${p}`.trim(), v);
  };

  const lines = text.split('\n');
  // A pretty-printed JSON document: its strings, each on the line where it is written.
  const whole = !opts.binary && lines.length > 1 ? parseJson(text) : undefined;
  if (whole !== undefined) {
    for (const [p, v] of jsonFields(whole)) {
      const raw = JSON.stringify(v).replace(/^"|"$/g, '');
      const idx = lines.findIndex((l) => l.includes(raw));
      field(idx + 1 || 1, `JSON ${p}`, v);
    }
    return hits;
  }

  let copy: { table: string; columns: string[] } | undefined;
  for (const [i, line] of lines.entries()) {
    const n = i + 1;
    if (copy) {
      if (line === '\\.') {
        copy = undefined;
        continue;
      }
      for (const [c, raw] of line.split('\t').entries()) {
        if (raw === '\\N') continue;
        fieldOrJson(n, `COPY ${copy.table} column ${c + 1}${copy.columns[c] ? ` (${copy.columns[c]})` : ''}`, unescapeCopy(raw));
      }
      continue;
    }
    const header = /^COPY (\S+) \(([^)]*)\) FROM stdin;$/.exec(line);
    if (header) {
      copy = { table: header[1]!, columns: header[2]!.split(',').map((c) => c.trim().replace(/^"|"$/g, '')) };
      continue;
    }
    const json = opts.binary ? undefined : parseJson(line);
    if (json === undefined) field(n, opts.binary ? 'binary' : 'text', line);
    else for (const [p, v] of jsonFields(json)) field(n, `JSON ${p}`, v);
  }
  return hits;
}

/** Scans a file's bytes: UTF-8 (so fullwidth digits are digits); a file with NUL bytes is labelled binary. */
export function scanBytes(bytes: Buffer, targets: ScanTargets): PiiHit[] {
  return scanText(bytes.toString('utf8'), targets, { binary: bytes.includes(0) });
}
