import { createHmac } from 'node:crypto';
import path from 'node:path';
import { parseCallMetadata, type CallMetadata } from '../recordings/index.js';
import { normaliseNumber, type CallerKeys } from '../shared/caller-key.js';
import { DomainError, type FieldError } from '../shared/errors.js';
import { instantOfLocalTime } from './local-time.js';

/** What a preset makes of one item: the webhook's validated metadata, the number already a caller key. */
export interface ItemMetadata {
  meta: CallMetadata;
  /** The layout gives no end: the end is the start plus the audio's duration. */
  endFromDuration: boolean;
  /** The local start time fell in the hour repeated when summer time ends; the earlier instant was taken. */
  ambiguousStart: boolean;
}

/** Bad or missing metadata: the item is rejected with `reason` (a code, never a path or a number). */
export class ItemRejected extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

export interface PresetContext {
  callerKeys: CallerKeys;
  timeZone: string;
  now: Date;
  futureToleranceMs: number;
  maxCallDurationMs: number;
}

/** A metadata layout: where an item's sidecar lies (if it has one) and how its metadata is read. */
export interface MetadataPreset {
  /** The sidecar's path beside the audio, or null when the layout has none. */
  sidecarOf(audioPath: string): string | null;
  read(audioPath: string, sidecar: Buffer | null, ctx: PresetContext): ItemMetadata;
}

/** The webhook's metadata validation, with its failures turned into rejection reasons. */
function validated(json: string, ctx: PresetContext): CallMetadata {
  try {
    return parseCallMetadata(json, ctx.callerKeys, { now: ctx.now, futureToleranceMs: ctx.futureToleranceMs, maxCallDurationMs: ctx.maxCallDurationMs });
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    const errors = (err.details?.errors as FieldError[] | undefined) ?? [];
    if (err.message === 'startedAt is in the future') throw new ItemRejected('future-start');
    if (errors.some((e) => e.pointer === '/caller')) throw new ItemRejected('invalid-caller');
    throw new ItemRejected(err.code === 'invalid-metadata-json' ? 'unreadable-metadata' : 'invalid-metadata');
  }
}

/** `<name>.json` beside `<name>.<ext>`, holding the webhook's metadata fields. */
const genericJson: MetadataPreset = {
  sidecarOf: (p) => p.slice(0, p.length - path.extname(p).length) + '.json',
  read(_p, sidecar, ctx) {
    if (!sidecar) throw new ItemRejected('missing-metadata');
    return { meta: validated(sidecar.toString('utf8'), ctx), endFromDuration: false, ambiguousStart: false };
  },
};

/** q-<queue>-<caller>-<dest>-<yyyymmdd>-<hhmmss>-<uniqueid>.<ext>, local time in the source's zone. */
const FREEPBX_NAME = /^q-(?<queue>[^-]*)-(?<caller>[^-]*)-(?<dest>[^-]*)-(?<date>\d{8})-(?<time>\d{6})-(?<uniqueid>[0-9]+(?:\.[0-9]+)?)\.(?:wav|WAV|wav49|gsm|mp3)$/;

const freepbx: MetadataPreset = {
  sidecarOf: () => null,
  read(audioPath, _sidecar, ctx) {
    const m = FREEPBX_NAME.exec(path.basename(audioPath));
    if (!m?.groups) throw new ItemRejected('unrecognised-file-name');
    const g = m.groups as Record<'queue' | 'caller' | 'date' | 'time' | 'uniqueid', string>;
    const t = instantOfLocalTime(
      {
        year: Number(g.date.slice(0, 4)),
        month: Number(g.date.slice(4, 6)),
        day: Number(g.date.slice(6, 8)),
        hour: Number(g.time.slice(0, 2)),
        minute: Number(g.time.slice(2, 4)),
        second: Number(g.time.slice(4, 6)),
      },
      ctx.timeZone,
    );
    if (!t.ok) throw new ItemRejected(t.reason);
    // "anonymous", an empty field or an internal extension is no caller's number: the call is kept without a key.
    let caller: string | null = null;
    try {
      if (g.caller) caller = normaliseNumber(g.caller);
    } catch {
      caller = null;
    }
    const started = t.at.toISOString();
    const json = JSON.stringify({ callId: g.uniqueid, startedAt: started, endedAt: started, caller, queue: g.queue || null });
    return { meta: validated(json, ctx), endFromDuration: true, ambiguousStart: t.ambiguous };
  },
};

export const PRESETS: Record<string, MetadataPreset> = { 'generic-json': genericJson, freepbx };

/**
 * Item ids: HMAC-SHA256 of source name and path under a key derived from the caller-key secret. Stable
 * across restarts and instances (so a crashed take is found again), useless for reading back a path.
 */
export function createItemIds(callerKeySecret: string): (source: string, itemPath: string) => string {
  const key = createHmac('sha256', callerKeySecret).update('gallra:source-item-id').digest();
  return (source, itemPath) => createHmac('sha256', key).update(`${source}\u0000${itemPath}`, 'utf8').digest('hex');
}
