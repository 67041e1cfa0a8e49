import path from 'node:path';
import { z } from 'zod';

/** Where key-encryption keys live, and how long a deadline period is. Read by config.ts only. */
export interface EncryptionConfig {
  keyStore: { kind: 'dir'; dir: string } | { kind: 'postgres'; url: string };
  /** Hours per deadline period; each period has its own key (KEY_PERIOD_HOURS, default 1: the UTC hour). */
  periodHours: number;
}

export const encryptionEnvSchema = z.object({
  KEY_STORE_DIR: z.string().min(1).optional(),
  KEY_STORE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL of a database of its own').optional(),
  KEY_PERIOD_HOURS: z.coerce
    .number()
    .int()
    .refine((n) => n >= 1 && n <= 24 && 24 % n === 0, 'a whole number of hours that divides a day: 1, 2, 3, 4, 6, 8, 12 or 24')
    .default(1),
});

const inside = (parent: string, child: string) => {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

/**
 * The key store: KEY_STORE_URL (several instances), else KEY_STORE_DIR, by default `keys` beside
 * DATA_DIR. Returns the problems as lines naming the variable; refuses a key store that would travel
 * in the data's backups (inside DATA_DIR, beside the SQLite file, or the main database itself).
 */
export function parseEncryptionConfig(env: Record<string, string>, ctx: { dataDir: string; databaseUrl: string }): { config?: EncryptionConfig; problems: string[] } {
  const parsed = encryptionEnvSchema.safeParse(env);
  if (!parsed.success) return { problems: parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`) };
  const e = parsed.data;
  if (e.KEY_STORE_URL && e.KEY_STORE_DIR) return { problems: ['KEY_STORE_DIR: not together with KEY_STORE_URL; the key store is one or the other'] };
  if (e.KEY_STORE_URL) {
    if (e.KEY_STORE_URL === ctx.databaseUrl) return { problems: ['KEY_STORE_URL: is the main database (DATABASE_URL); the keys must live apart from the data they open, in a database of their own'] };
    return { config: { keyStore: { kind: 'postgres', url: e.KEY_STORE_URL }, periodHours: e.KEY_PERIOD_HOURS }, problems: [] };
  }
  const dir = path.resolve(e.KEY_STORE_DIR ?? path.join(path.dirname(ctx.dataDir), 'keys'));
  const problems: string[] = [];
  if (inside(ctx.dataDir, dir)) problems.push(`KEY_STORE_DIR: ${dir} is inside DATA_DIR (${ctx.dataDir}), where every backup of the data would carry the keys; put it beside, e.g. ${path.join(path.dirname(ctx.dataDir), 'keys')}`);
  const sqlite = ctx.databaseUrl.startsWith('sqlite:') ? path.dirname(path.resolve(ctx.databaseUrl.slice('sqlite:'.length))) : undefined;
  if (sqlite && inside(sqlite, dir)) problems.push(`KEY_STORE_DIR: ${dir} is inside the database's directory (${sqlite}), where its backups would carry the keys`);
  return problems.length ? { problems } : { config: { keyStore: { kind: 'dir', dir }, periodHours: e.KEY_PERIOD_HOURS }, problems: [] };
}
