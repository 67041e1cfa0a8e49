/**
 * npm run bench:encryption — encryption at rest against the same service without it, in one run:
 *   1. ingest throughput (webhook, filesystem store, SQLite) with encryption on vs off, rounds alternated;
 *   2. time to the first byte of a 1-second range (16 000 bytes of 8 kHz 16-bit audio) in the middle of a
 *      100 MB recording, encrypted vs plaintext store;
 *   3. RSS growth of the process while the 100 MB recording is ingested and played back encrypted.
 * The upload bodies are streamed from a generator (never held whole), so the RSS measured is the service's.
 * BENCH_UPLOADS (default 24), BENCH_CONCURRENCY (4), BENCH_ROUNDS (5), BENCH_BIG_MB (100), BENCH_RANGES (40).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { startTestApp, TEST_WEBHOOK_SECRET, type TestApp } from '../test/helpers/test-app.js';
import { callMeta } from '../test/helpers/webhook.js';

const UPLOADS = Number(process.env.BENCH_UPLOADS ?? 24);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BIG = Number(process.env.BENCH_BIG_MB ?? 100) * 1_000_000;
const RANGES = Number(process.env.BENCH_RANGES ?? 40);

const fixture = readFileSync(path.resolve(import.meta.dirname, '../test/fixtures/call-pcm16-8k.wav'));
const header = fixture.subarray(0, 44);
const samples = fixture.subarray(44);

/** A WAV of `size` bytes, as 64 KiB chunks made on demand (the same bytes every time). */
function* wav(size: number): Generator<Buffer> {
  yield header;
  let left = size - header.length;
  let at = 0;
  while (left > 0) {
    const n = Math.min(65536, left, samples.length - at);
    yield samples.subarray(at, at + n);
    at = (at + n) % samples.length;
    left -= n;
  }
}

/** Streams one signed multipart upload of a `size`-byte WAV; resolves with the status and body. */
function upload(t: TestApp, port: number, size: number): Promise<{ status: number; body: string }> {
  const boundary = 'b' + randomUUID().replace(/-/g, '');
  const meta = JSON.stringify(callMeta(t.clock.now(), { callId: `bench-${randomUUID()}` }));
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\nContent-Type: application/json\r\n\r\n${meta}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="audio"; filename="call.wav"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const id = `msg_${randomUUID()}`;
  const ts = Math.floor(t.clock.now().getTime() / 1000);
  const mac = createHmac('sha256', Buffer.from(TEST_WEBHOOK_SECRET.slice(6), 'base64')).update(`${id}.${ts}.`).update(head);
  for (const c of wav(size)) mac.update(c);
  mac.update(tail);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        port, host: '127.0.0.1', method: 'POST', path: '/v1/recordings',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(head.length + size + tail.length), 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': `v1,${mac.digest('base64')}` },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    void (async () => {
      req.write(head);
      for (const c of wav(size)) if (!req.write(c)) await new Promise((r) => req.once('drain', r));
      req.end(tail);
    })();
  });
}

async function throughput(t: TestApp, port: number): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < UPLOADS) {
        const r = await upload(t, port, 2_500_000);
        if (r.status !== 201) throw new Error(`upload answered ${r.status}: ${r.body}`);
      }
    }),
  );
  return UPLOADS / ((performance.now() - started) / 1000);
}

function firstByteMs(port: number, token: string, id: string, range: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.get({ port, host: '127.0.0.1', path: `/v1/recordings/${id}/audio`, headers: { authorization: `Bearer ${token}`, range } }, (res) => {
      if (res.statusCode !== 206) return reject(new Error(`range answered ${res.statusCode}`));
      res.once('data', () => resolve(performance.now() - t0));
      res.resume();
    });
    req.on('error', reject);
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const listen = (t: TestApp) => new Promise<{ server: http.Server; port: number }>((r) => {
  const server = http.createServer(t.app).listen(0, '127.0.0.1', () => r({ server, port: (server.address() as AddressInfo).port }));
});

const config = { maxRecordingBytes: 2 * BIG, logLevel: 'error' as const };
const off = await startTestApp({ keyStore: false, config });
const on = await startTestApp({ config });
const [offHttp, onHttp] = [await listen(off), await listen(on)];
try {
  // Warm-up (JIT, the first SQLite pages), unmeasured.
  await throughput(off, offHttp.port);
  await throughput(on, onHttp.port);
  const tput = { on: [] as number[], off: [] as number[] };
  for (let i = 0; i < ROUNDS; i++) {
    tput.off.push(await throughput(off, offHttp.port));
    tput.on.push(await throughput(on, onHttp.port));
  }
  const ratio = median(tput.on) / median(tput.off);
  process.stdout.write(`ingest (2.5 MB WAV, ${UPLOADS} uploads × ${ROUNDS} rounds, ${CONCURRENCY} at a time): off ${median(tput.off).toFixed(1)}/s, on ${median(tput.on).toFixed(1)}/s, ratio ${ratio.toFixed(3)} (must be ≥ 0.9)\n`);

  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 20);
  const bigOn = JSON.parse((await upload(on, onHttp.port, BIG)).body) as { id: string };
  const bigOff = JSON.parse((await upload(off, offHttp.port, BIG)).body) as { id: string };
  const [tokOn, tokOff] = [await on.token('admin'), await off.token('admin')];
  const mid = Math.floor(BIG / 2);
  const range = `bytes=${mid}-${mid + 15_999}`;
  const ttfb = { on: [] as number[], off: [] as number[] };
  for (let i = 0; i < RANGES; i++) {
    ttfb.off.push(await firstByteMs(offHttp.port, tokOff, bigOff.id, range));
    ttfb.on.push(await firstByteMs(onHttp.port, tokOn, bigOn.id, range));
  }
  clearInterval(sampler);
  const growth = (rssPeak - rssBefore) / 1e6;
  const ttfbRatio = median(ttfb.on) / median(ttfb.off);
  process.stdout.write(`1-second range in the middle of a ${BIG / 1e6} MB recording, first byte (median of ${RANGES}): plaintext ${median(ttfb.off).toFixed(2)} ms, encrypted ${median(ttfb.on).toFixed(2)} ms, ratio ${ttfbRatio.toFixed(3)} (must be ≤ 1.2)\n`);
  process.stdout.write(`RSS growth while ${BIG / 1e6} MB were ingested (twice) and played back: ${growth.toFixed(1)} MB (${(rssBefore / 1e6).toFixed(0)} → peak ${(rssPeak / 1e6).toFixed(0)} MB; must be < 50)\n`);
  const ok = ratio >= 0.9 && ttfbRatio <= 1.2 && growth < 50;
  process.stdout.write(ok ? 'PASS\n' : 'FAIL\n');
  process.exitCode = ok ? 0 : 1;
} finally {
  offHttp.server.close();
  onHttp.server.close();
  await off.close().catch(() => {});
  await on.close().catch(() => {});
}
