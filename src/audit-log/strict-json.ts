/**
 * A JSON reader for evidence: what JSON.parse accepts silently (a repeated key, whose last value wins;
 * `91950.0` or `9.195e4` read as 91950) could make a file say one thing to a person and another to the
 * verifier. This one refuses both, so that what is verified is exactly what the text shows.
 * docs/audit-log.md (§7, "Strict reading") states the rules for auditors' own tools.
 */

export type StrictJsonReason = 'not-json' | 'repeated-key' | 'non-canonical-number';

export class StrictJsonError extends Error {
  constructor(
    readonly reason: StrictJsonReason,
    message: string,
  ) {
    super(message);
    this.name = 'StrictJsonError';
  }
}

/** A number as §2 writes it: an integer, no sign but `-`, no leading zero, no fraction, no exponent. */
const CANONICAL_INTEGER = /^(0|-?[1-9][0-9]*)$/;
const NUMBER_TOKEN = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
/** A JSON string token: JSON.parse of exactly this text gives its value. */
const STRING_TOKEN = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y;
const WHITESPACE = /[ \t\n\r]*/y;

/**
 * Parses `text` as one JSON value. Throws StrictJsonError: `repeated-key` for an object with a key
 * twice, `non-canonical-number` for a number other than a safe integer in plain decimal, `not-json` for
 * anything else JSON.parse would refuse.
 */
export function parseStrictJson(text: string): unknown {
  let i = 0;
  const fail = (reason: StrictJsonReason, message: string): never => {
    throw new StrictJsonError(reason, message);
  };
  const skip = () => {
    WHITESPACE.lastIndex = i;
    WHITESPACE.exec(text);
    i = WHITESPACE.lastIndex;
  };
  const string = (): string => {
    STRING_TOKEN.lastIndex = i;
    const m = STRING_TOKEN.exec(text);
    if (!m) fail('not-json', `a malformed string at character ${i}`);
    i = STRING_TOKEN.lastIndex;
    return JSON.parse(m![0]) as string;
  };
  const value = (depth: number): unknown => {
    if (depth > 64) fail('not-json', 'nested too deeply');
    skip();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      const seen = new Set<string>();
      skip();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        skip();
        if (text[i] !== '"') fail('not-json', `expected a key at character ${i}`);
        const key = string();
        if (seen.has(key)) fail('repeated-key', `the key ${JSON.stringify(key)} appears twice in one object`);
        seen.add(key);
        skip();
        if (text[i] !== ':') fail('not-json', `expected ':' at character ${i}`);
        i++;
        // defineProperty: a key "__proto__" is an ordinary member here, as it is in the hashed text.
        Object.defineProperty(obj, key, { value: value(depth + 1), enumerable: true, writable: true, configurable: true });
        skip();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        fail('not-json', `expected ',' or '}' at character ${i}`);
      }
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      skip();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        skip();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail('not-json', `expected ',' or ']' at character ${i}`);
      }
    }
    if (c === '"') return string();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    NUMBER_TOKEN.lastIndex = i;
    const m = NUMBER_TOKEN.exec(text);
    if (!m) return fail('not-json', `unexpected ${c === undefined ? 'end of text' : JSON.stringify(c)} at character ${i}`);
    i = NUMBER_TOKEN.lastIndex;
    const n = Number(m[0]);
    if (!CANONICAL_INTEGER.test(m[0]) || !Number.isSafeInteger(n)) {
      fail('non-canonical-number', `the number ${m[0]} is not a safe integer written in plain decimal`);
    }
    return n;
  };
  const out = value(0);
  skip();
  if (i !== text.length) fail('not-json', `unexpected text after the value at character ${i}`);
  return out;
}
