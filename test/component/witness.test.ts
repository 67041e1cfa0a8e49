import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { asTx } from '../../src/shared/database.js';
import { runWitness, witnessKeyOf } from '../../scripts/witness.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

describe('a witness cosigns only checkpoints that extend the one it saw last', () => {
  const name = 'dso.kommun.example/witness';
  const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  let t: TestApp;
  let server: Server;
  let log: string;
  let dir: string;
  beforeEach(async () => {
    t = await startTestApp({ config: { transparency: { origin: 'kommun.example/gallra', witnessKeys: [witnessKeyOf(pem, name).vkey], signIntervalMs: 60_000, publicRequestsPerMinute: 1000 } } });
    server = createServer(t.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    log = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = mkdtempSync(path.join(tmpdir(), 'gallra-witness-'));
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const append = async (n: number) => {
    for (let i = 0; i < n; i++) await t.db.transaction((trx) => t.services.audit.append(asTx(trx), { actor: 'system:test', action: 'recording.played', subject: `recording:r${i}`, details: { i } }));
  };
  const witness = () => runWitness({ log, privateKeyPem: pem, name, stateFile: path.join(dir, 'state.json'), now: () => t.clock.now() });

  it('cosigns a growing log each time; the cosignature is served with the checkpoint and carried by receipts', async () => {
    await append(7);
    expect(await witness()).to.include({ cosigned: true, size: 7 });
    await append(12);
    await t.services.treeHeads.sign();
    const second = await witness();
    // 7 + the first cosignature's audit entry + 12.
    expect(second, second.message).to.include({ cosigned: true, size: 20 });
    expect(second.message).to.include('consistent with size 7');
    const cp = await (await fetch(`${log}/v1/transparency/checkpoint`)).text();
    expect(cp).to.include(`\u2014 ${name} `);
    expect((await t.services.receipts.forEntry(3)).tlogProof).to.include(`\u2014 ${name} `);
  });

  it('refuses to cosign a rewritten log (one entry changed, re-signed with the real key) and says why', async () => {
    await append(10);
    expect(await witness()).to.include({ cosigned: true, size: 10 });
    // The rewrite: entry 4 changed, the tree built again over it, earlier heads removed, a new head signed with the log's own key.
    await t.db('audit_entries').where({ seq: 4 }).update({ details: '{"i":99}' });
    await t.db('audit_tree').where('level', '>', 0).del();
    await t.db('audit_tree').where({ level: 0, idx: 3 }).del();
    await t.db('audit_tree_heads').del();
    await append(3);
    const rewritten = (await t.services.treeHeads.sign())!;
    expect(rewritten.size).to.equal(14); // 10, the cosignature's entry, 3
    const verdict = await witness();
    expect(verdict).to.include({ cosigned: false, size: 14 });
    expect(verdict.message).to.match(/not consistent with the one of size 10 .*rewritten/);
    expect(await t.db('audit_cosignatures').where({ size: 14 })).to.have.length(0);
    // It keeps the checkpoint it trusted: running again refuses again.
    expect((await witness()).cosigned).to.equal(false);
  });
});
