import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { readAll as readAuditEntries } from '../../src/audit-log/audit-repository.js';
import { cronForInterval, type FolderSourceConfig, type SftpSourceConfig } from '../../src/sources/index.js';
import type { TestApp } from './test-app.js';

type Common = Omit<FolderSourceConfig, 'adapter' | 'path'>;

/** A source's settings as SOURCES_FILE would give them after validation, with short test times. */
export function sourceSettings(name: string, overrides: Partial<Common> = {}): Common {
  return {
    name,
    pollIntervalMs: 15_000,
    schedule: cronForInterval(15_000)!,
    settleMs: 10_000,
    concurrency: 4,
    maxFileBytes: 5 * 1024 * 1024,
    include: '**/*.{wav,mp3,flac,opus}',
    timeZone: 'Europe/Stockholm',
    metadata: { preset: 'generic-json' },
    deleteAtSource: true,
    ...overrides,
  };
}

export function folderSource(name: string, root: string, overrides: Partial<Common> = {}): FolderSourceConfig {
  return { ...sourceSettings(name, overrides), adapter: 'folder', path: root };
}

export function sftpSource(name: string, fields: Omit<SftpSourceConfig, keyof Common | 'adapter'>, overrides: Partial<Common> = {}): SftpSourceConfig {
  return { ...sourceSettings(name, overrides), adapter: 'sftp', ...fields };
}

export async function auditOf(t: TestApp) {
  const out = [];
  for await (const e of readAuditEntries(t.db)) out.push(e);
  return out;
}

/** The bytes of a stored object. */
export async function storedBytes(t: TestApp, key: string): Promise<Buffer> {
  const obj = await t.services.store.get(key);
  const chunks: Buffer[] = [];
  for await (const c of obj.body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Every file under `dir`, relative. */
export function filesIn(dir: string, rel = ''): string[] {
  if (!existsSync(path.join(dir, rel))) return [];
  return readdirSync(path.join(dir, rel)).flatMap((f) => {
    const r = rel ? `${rel}/${f}` : f;
    return statSync(path.join(dir, r)).isDirectory() ? filesIn(dir, r) : [r];
  });
}
