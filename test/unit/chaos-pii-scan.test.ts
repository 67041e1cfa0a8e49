import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createCallerKeys } from '../../src/shared/caller-key.js';
import { newSecrets, scanFiles, spellings, type World } from '../../bench/chaos/harness.js';

describe('the fault drills\' PII scan', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gallra-pii-scan-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const w = { dir, secrets: newSecrets(), numbers: new Set(['+46701234567', '+46739876543']) } as unknown as World;
  const file = (name: string, text: string | Buffer) => {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    return f;
  };

  it('finds a used number in every common spelling, inside JSON log lines and binary files', () => {
    const forms = [...spellings('+46701234567'), '46701234567', '070 123 45 67', '070-12 34 567', '(070) 123 45 67', '+46 70 123 45 67', '070.123.45.67', '+46 (0)70-123 45 67'];
    for (const [i, form] of forms.entries()) {
      const f = file(`log-${i}.log`, `{"level":"error","message":"insert into x values (${JSON.stringify(form)})"}\n`);
      expect(scanFiles([f], w, false), form).to.deep.equal([{ file: path.basename(f), numbers: 1, callerKeys: 0 }]);
    }
    const bin = file('db.sqlite', Buffer.concat([Buffer.alloc(100, 0), Buffer.from('0739876543'), Buffer.alloc(100, 0xff)]));
    expect(scanFiles([bin], w, false)[0]!.numbers).to.equal(1);
  });

  it('finds caller keys only where asked to (logs), and ignores numbers the drill never used', () => {
    const key = createCallerKeys(w.secrets.callerKeySecret).ofE164('+46701234567');
    const f = file('keys.log', `{"caller_key":"${key}","other":"+46705550000","id":"${'0'.repeat(64)}"}\n`);
    expect(scanFiles([f], w, true)).to.deep.equal([{ file: 'keys.log', numbers: 0, callerKeys: 1 }]);
    expect(scanFiles([f], w, false)).to.deep.equal([]);
  });
});
