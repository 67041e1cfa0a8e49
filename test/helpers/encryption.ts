import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { createDatabase, type Database } from '../../src/shared/database.js';
import { createPostgresDatabase } from './postgres.js';
import type { TestApp } from './test-app.js';
import { callMeta, recordingBody, signedHeaders } from './webhook.js';
import { filesUnder } from './files.js';

/** Every byte of every file under `dir`. */
export function bytesUnder(dir: string): Buffer {
  return Buffer.concat(filesUnder(dir).map((f) => readFileSync(f)));
}

/** The 4 KiB runs of `audio` found in `haystack` (every 4 KiB-aligned run, and the last one). */
export function runsFoundIn(haystack: Buffer, audio: Buffer, run = 4096): number[] {
  const found: number[] = [];
  const starts = [];
  for (let i = 0; i + run <= audio.length; i += run) starts.push(i);
  if (audio.length >= run) starts.push(audio.length - run);
  for (const s of starts) if (haystack.includes(audio.subarray(s, s + run))) found.push(s);
  return found;
}

/** Posts one call through the signed webhook; the answer's body is the stored recording. */
export async function ingestAudio(t: TestApp, audio: Buffer, overrides: Record<string, unknown> = {}, minutesAgo = 10): Promise<{ id: string; deadline: string }> {
  const { body, contentType } = recordingBody(callMeta(t.clock.now(), overrides, minutesAgo) as never, audio);
  const res = await request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body);
  if (res.status !== 201) throw new Error(`ingest answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body as { id: string; deadline: string };
}

const binary = (res: request.Response, cb: (err: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
};

/** GET /v1/recordings/:id/audio, with a Range when given; the body as bytes. */
export async function audioOf(t: TestApp, token: string, id: string, range?: string): Promise<{ status: number; body: Buffer; type: string }> {
  let req = request(t.app).get(`/v1/recordings/${id}/audio`).set('Authorization', `Bearer ${token}`);
  if (range) req = req.set('Range', range);
  const res = await req.buffer(true).parse(binary);
  return { status: res.status, body: res.body as Buffer, type: String(res.headers['content-type'] ?? '') };
}

/**
 * A copy of the database as a backup holds it, as a second database: SQLite by VACUUM INTO, PostgreSQL
 * by pg_dump | pg_restore into a fresh database.
 */
export async function copyDatabase(t: TestApp, dir: string): Promise<{ db: Database; close(): Promise<void> }> {
  if (t.kind === 'sqlite') {
    const file = path.join(dir, `backup-${Date.now()}-${Math.random().toString(16).slice(2)}.sqlite`);
    await t.db.raw('VACUUM INTO ?', [file]);
    const db = createDatabase(`sqlite:${file}`);
    return { db, close: () => db.destroy() };
  }
  const target = await createPostgresDatabase({ migrated: false });
  const dump = path.join(dir, `backup-${Date.now()}.dump`);
  await promisify(execFile)('pg_dump', ['-Fc', '--no-owner', '-f', dump, t.config.databaseUrl]);
  await promisify(execFile)('pg_restore', ['--no-owner', '-d', target.url, dump]);
  const db = createDatabase(target.url);
  return { db, close: async () => (await db.destroy(), target.dropLater()) };
}
