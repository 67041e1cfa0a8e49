import { z } from 'zod';
import { parseVerifierKey } from './signed-note.js';

/**
 * The transparency log's settings (docs/receipts.md), TRANSPARENCY_*: a leaf module that config.ts joins
 * to its own schema, so that the keys live beside the capability that uses them.
 */
const UNITS = { s: 1000, m: 60_000, h: 3_600_000 } as const;

export const TRANSPARENCY_DEFAULTS = Object.freeze({ origin: 'gallra.example/audit-log', witnessKeys: [] as string[], signIntervalMs: 60_000, publicRequestsPerMinute: 60 });

export const transparencyConfig = z
  .object({
    TRANSPARENCY_ORIGIN: z
      .string()
      .regex(/^[a-z0-9.-]+(\/[A-Za-z0-9._-]+)*$/, 'a schema-less URL such as kommun.example/gallra (lower-case host, then a path)')
      .optional(),
    TRANSPARENCY_WITNESS_KEYS: z
      .string()
      .transform((v) => v.split(/[\s,]+/).filter(Boolean))
      .refine((keys) => keys.every((k) => { try { return parseVerifierKey(k).type === 0x04 || parseVerifierKey(k).type === 0x01; } catch { return false; } }), 'witness verifier keys name+keyid+base64, separated by commas or spaces')
      .optional(),
    TRANSPARENCY_SIGN_INTERVAL: z
      .string()
      .regex(/^\d+(s|m|h)$/, 'a duration such as 30s, 1m or 1h')
      .transform((v) => Number.parseInt(v, 10) * UNITS[v.replace(/^\d+/, '') as keyof typeof UNITS])
      .optional(),
    TRANSPARENCY_RATE_LIMIT: z.coerce.number().int().min(1).max(100_000).optional(),
  })
  .transform((e) => ({
    transparency: {
      /** TRANSPARENCY_ORIGIN: the checkpoint's origin line and the log key's name. */
      origin: e.TRANSPARENCY_ORIGIN ?? TRANSPARENCY_DEFAULTS.origin,
      /** TRANSPARENCY_WITNESS_KEYS: witness verifier keys (name+keyid+base64) whose cosignatures are accepted. */
      witnessKeys: e.TRANSPARENCY_WITNESS_KEYS ?? [],
      /** TRANSPARENCY_SIGN_INTERVAL: at least this long between two tree heads signed on demand. */
      signIntervalMs: e.TRANSPARENCY_SIGN_INTERVAL ?? TRANSPARENCY_DEFAULTS.signIntervalMs,
      /** TRANSPARENCY_RATE_LIMIT: public requests per client address and minute. */
      publicRequestsPerMinute: e.TRANSPARENCY_RATE_LIMIT ?? TRANSPARENCY_DEFAULTS.publicRequestsPerMinute,
    },
  }));

export type TransparencyConfig = z.output<typeof transparencyConfig>['transparency'];
