import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { readdirSync } from 'node:fs';
import { expect } from 'chai';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';

describe('ingest over a real socket', () => {
  let t: TestApp;
  let server: http.Server;
  let port: number;
  beforeEach(async () => {
    t = await startTestApp();
    server = t.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    await new Promise((r) => server.close(r));
    await t.close();
  });

  it('leaves no row and no object when the phone system hangs up halfway through an upload', async () => {
    const audio = Buffer.concat(Array.from({ length: 10 }, () => fixture('call-pcm16-8k.wav')));
    const { body, contentType } = recordingBody(callMeta(t.clock.now()), audio);
    const headers = { ...signedHeaders(body, t.clock.now()), 'content-type': contentType, 'content-length': String(body.length) };
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/recordings', headers });
    req.on('error', () => undefined);
    // Send a little over half, wait until the server has started storing it, then cut the connection.
    req.write(body.subarray(0, Math.floor(body.length * 0.6)));
    const objects = path.join(t.dir, 'objects');
    for (let i = 0; i < 200; i++) {
      const any = (() => {
        try {
          return readdirSync(objects, { recursive: true }).length > 0;
        } catch {
          return false;
        }
      })();
      if (any) break;
      await new Promise((r) => setImmediate(r));
    }
    req.destroy();
    // The server notices the hang-up asynchronously; wait for its cleanup, bounded.
    let files: string[] = [];
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => setTimeout(r, 20));
      try {
        files = (readdirSync(objects, { recursive: true }) as string[]).filter((f) => /[0-9a-f-]{36}$/.test(f) || f.includes('.tmp-'));
      } catch {
        files = []; // the store never created its folder: nothing was written
      }
      if (!files.length) break;
    }
    expect(files).to.deep.equal([]);
    expect(await t.db('recordings').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
  });

  it('answers 413 at once to an upload whose declared length is far over the cap, without reading it', async () => {
    const headers = {
      ...signedHeaders(Buffer.alloc(0), t.clock.now()),
      'content-type': 'multipart/form-data; boundary=x',
      'content-length': String(t.config.maxRecordingBytes * 4),
    };
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/recordings', headers }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.write(Buffer.alloc(1024));
    });
    expect(status).to.equal(413);
    expect(await t.db('recordings').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
  });
});
