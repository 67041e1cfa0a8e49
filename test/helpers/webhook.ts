import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { signWebhook } from '../../src/http/webhook-signature.js';
import { TEST_WEBHOOK_SECRET } from './test-app.js';

export const FIXTURES = path.resolve(import.meta.dirname, '../fixtures');
export const fixture = (name: string): Buffer => readFileSync(path.join(FIXTURES, name));

export interface CallMeta {
  callId: string;
  startedAt: string;
  endedAt: string;
  caller: string | null;
  queue?: string | null;
  agentId?: string | null;
  optOut?: boolean;
}

/** Metadata for a call that started `minutesAgo` before `now`. */
export function callMeta(now: Date, overrides: Partial<CallMeta> = {}, minutesAgo = 10): CallMeta {
  const start = new Date(now.getTime() - minutesAgo * 60_000);
  return {
    callId: `call-${randomUUID()}`,
    startedAt: start.toISOString(),
    endedAt: new Date(start.getTime() + 180_000).toISOString(),
    caller: '+46701234567',
    queue: 'bygglov',
    agentId: 'agent-17',
    optOut: false,
    ...overrides,
  };
}

/** A multipart/form-data body: the metadata field, then the audio file (order adjustable for tests). */
export function multipartBody(
  parts: { name: string; value: string | Buffer; filename?: string; contentType?: string }[],
  boundary = '----gallra' + randomUUID().replace(/-/g, ''),
): { body: Buffer; contentType: string } {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disp = p.filename ? `form-data; name="${p.name}"; filename="${p.filename}"` : `form-data; name="${p.name}"`;
    const head = `--${boundary}\r\nContent-Disposition: ${disp}\r\n${p.contentType ? `Content-Type: ${p.contentType}\r\n` : ''}\r\n`;
    chunks.push(Buffer.from(head), Buffer.isBuffer(p.value) ? p.value : Buffer.from(p.value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

export function recordingBody(meta: CallMeta | Record<string, unknown> | string, audio: Buffer) {
  return multipartBody([
    { name: 'metadata', value: typeof meta === 'string' ? meta : JSON.stringify(meta), contentType: 'application/json' },
    { name: 'audio', value: audio, filename: 'call.wav', contentType: 'application/octet-stream' },
  ]);
}

/** Standard Webhooks headers for `body`, signed at `now`. */
export function signedHeaders(body: Buffer, now: Date, opts: { secret?: string; id?: string; timestamp?: number } = {}) {
  const id = opts.id ?? `msg_${randomUUID()}`;
  const ts = opts.timestamp ?? Math.floor(now.getTime() / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': signWebhook(opts.secret ?? TEST_WEBHOOK_SECRET, id, ts, body),
  };
}

/** A PCM WAV (8 kHz, 16-bit, mono) around these samples. */
export function pcm16Wav(samples: Buffer): Buffer {
  const head = Buffer.alloc(44);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(36 + samples.length, 4);
  head.write('WAVEfmt ', 8, 'latin1');
  head.writeUInt32LE(16, 16);
  head.writeUInt16LE(1, 20);
  head.writeUInt16LE(1, 22);
  head.writeUInt32LE(8000, 24);
  head.writeUInt32LE(16000, 28);
  head.writeUInt16LE(2, 32);
  head.writeUInt16LE(16, 34);
  head.write('data', 36, 'latin1');
  head.writeUInt32LE(samples.length, 40);
  return Buffer.concat([head, samples]);
}

/** A PCM WAV of silence (8 kHz, 16-bit, mono). */
export function silentWav(seconds: number): Buffer {
  return pcm16Wav(Buffer.alloc(8000 * 2 * seconds));
}
