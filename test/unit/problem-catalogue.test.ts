import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { openApiDocument } from '../../src/openapi.js';
import { FIELD_ERROR_CODES, PROBLEM_CODES } from '../../src/shared/problem-codes.js';

const { CODE_TEXT } = (await import('../../src/web/public/text.js' as string)) as {
  CODE_TEXT: Record<'sv' | 'en', { problems: Record<string, string>; fieldReasons: Record<string, (limit?: number | string) => string> }>;
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('the catalogue of problems: every code the service answers has its words', () => {
  it('lists each problem code once, and each field reason once', () => {
    expect(new Set(PROBLEM_CODES).size).to.equal(PROBLEM_CODES.length);
    expect(new Set(FIELD_ERROR_CODES).size).to.equal(FIELD_ERROR_CODES.length);
  });

  it('has a Swedish and an English text for every problem code, and they differ', () => {
    for (const code of PROBLEM_CODES) {
      const sv = CODE_TEXT.sv.problems[code];
      const en = CODE_TEXT.en.problems[code];
      expect(sv, `sv ${code}`).to.be.a('string').and.match(/^[A-ZÅÄÖ].*\.$/);
      expect(en, `en ${code}`).to.be.a('string').and.match(/^[A-Z].*\.$/);
      expect(sv, code).not.to.equal(en);
    }
  });

  it('has a Swedish and an English text for every field reason, with its limit where it has one', () => {
    for (const code of FIELD_ERROR_CODES) {
      for (const lang of ['sv', 'en'] as const) {
        const say = CODE_TEXT[lang].fieldReasons[code];
        expect(say, `${lang} ${code}`).to.be.a('function');
        expect(say!(undefined), `${lang} ${code} without a limit`).to.be.a('string').and.not.include('undefined');
        expect(say!(42), `${lang} ${code} with a limit`).to.be.a('string').and.not.include('undefined');
      }
    }
    expect(CODE_TEXT.sv.fieldReasons['too-long']!(100)).to.equal('får vara högst 100 tecken');
    expect(CODE_TEXT.sv.fieldReasons['contains-phone-number']!()).to.equal('får inte innehålla ett telefonnummer');
  });

  it('names no problem code in the source that the catalogue lacks (as DomainError codes, the type checker holds them too)', () => {
    const src = path.resolve(import.meta.dirname, '../../src');
    const found = new Set<string>();
    for (const file of sourceFiles(src)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/new [A-Z]\w*\(\s*'([a-z0-9-]+)',/g)) if (/(Error|Request|Input|Unauthenticated|Forbidden|NotFound|Conflict|Exists|Gone|Large|Media|Satisfiable|Requests|TimedOut|Unavailable|Mismatch)$/.test(m[0].slice(4, m[0].indexOf('(')))) found.add(m[1]!);
      for (const m of text.matchAll(/problemType\('([a-z0-9-]+)'\)/g)) found.add(m[1]!);
    }
    expect(found.size).to.be.greaterThan(60);
    const missing = [...found].filter((c) => !(PROBLEM_CODES as readonly string[]).includes(c));
    expect(missing).to.deep.equal([]);
  });

  it('lists every problem type and field reason in the OpenAPI document as enums', () => {
    const doc = openApiDocument() as unknown as { components: { schemas: Record<string, { properties: Record<string, { enum?: string[]; items?: { properties: Record<string, { enum?: string[] }> } }> }> } };
    const problem = doc.components.schemas.Problem!;
    expect(problem.properties.type!.enum).to.deep.equal(PROBLEM_CODES.map((c) => `https://gallra.example/problems/${c}`));
    expect(problem.properties.errors!.items!.properties.code!.enum).to.deep.equal([...FIELD_ERROR_CODES]);
  });
});
