import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import sinon from 'sinon';
import { canonicalEntry, checkpointMessage, createSigner, hashEntry, parseNdjsonLine, verifyAuditLog } from '../../src/audit-log/index.js';

const doc = readFileSync(path.resolve(import.meta.dirname, '../../docs/audit-log.md'), 'utf8');
const example = doc.slice(doc.indexOf('## 8. Worked example'));
const block = (after: string) => {
  const i = example.indexOf(after);
  const start = example.indexOf('```\n', i) + 4;
  return example.slice(start, example.indexOf('```', start)).trim();
};

describe('the worked example in docs/audit-log.md', () => {
  afterEach(() => sinon.restore());

  it('matches what the code computes: canonical forms, hashes, checkpoint message and signature', async () => {
    const pems = block('The example key is for this document only');
    const privatePem = pems.slice(0, pems.indexOf('-----END PRIVATE KEY-----') + 25);
    const [l1, l2] = block('Export (two NDJSON lines)').split('\n').map((line) => {
      const e = parseNdjsonLine(line);
      if ('malformed' in e) throw new Error(`the example line is malformed: ${e.malformed.detail}`);
      return e;
    });
    expect(canonicalEntry(l1!)).to.equal(block('Canonical form of entry 1'));
    expect(canonicalEntry(l2!)).to.equal(block('Canonical form of entry 2'));
    expect(example).to.include(`SHA-256 → \`${hashEntry(l1!)}\``);
    expect(example).to.include(`SHA-256 → \`${hashEntry(l2!)}\``);
    const signer = createSigner(privatePem);
    const cpText = block('Checkpoint over the head');
    const cp = JSON.parse(cpText.split('\n')[1]!.replace(/^checkpoint\s+/, ''));
    expect(signer.sign({ seq: 2, hash: l2!.hash, at: '2026-11-23T10:00:00.000Z' })).to.deep.equal(cp);
    expect(cpText.split('\n')[0]!.replace(/^message:\s+/, '')).to.equal(checkpointMessage(cp).toString('utf8'));
    expect(pems).to.include(signer.publicKeyPem.trim());
    const v = await verifyAuditLog([l1!, l2!], [cp], signer.publicKey);
    expect(v.ok).to.equal(true);
  });
});
