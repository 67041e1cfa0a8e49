import { createHmac } from 'node:crypto';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { DateTime } from 'luxon';
import { parseCallMetadata, type CallMetadata } from '../recordings/index.js';
import { normaliseNumber, type CallerKeys } from '../shared/caller-key.js';
import { DomainError, type FieldError } from '../shared/errors.js';
import { instantOfLocalTime } from './local-time.js';
import type { MetadataConfig } from './source-config.js';

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

/** A metadata layout: where an item's sidecar may lie and how its metadata is read. */
export interface MetadataPreset {
  /** Where the sidecar may lie beside the audio, in order of preference; none when the layout has no sidecar. */
  sidecarsOf(audioPath: string): string[];
  /** Whether the layout reads the item's attributes (an S3 object's user metadata and tags) where the source has them. */
  usesAttributes?: boolean;
  /** `sidecar` is the first candidate present, or null when none is; `attributes` when usesAttributes and the source keeps any. */
  read(audioPath: string, sidecar: Buffer | null, ctx: PresetContext, attributes?: Map<string, string> | null): ItemMetadata;
}

const baseOf = (p: string): string => p.slice(0, p.length - path.extname(p).length);

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
  sidecarsOf: (p) => [baseOf(p) + '.json'],
  read(_p, sidecar, ctx) {
    if (!sidecar) throw new ItemRejected('missing-metadata');
    return { meta: validated(sidecar.toString('utf8'), ctx), endFromDuration: false, ambiguousStart: false };
  },
};

/** q-<queue>-<caller>-<dest>-<yyyymmdd>-<hhmmss>-<uniqueid>.<ext>, local time in the source's zone. */
const FREEPBX_NAME = /^q-(?<queue>[^-]*)-(?<caller>[^-]*)-(?<dest>[^-]*)-(?<date>\d{8})-(?<time>\d{6})-(?<uniqueid>[0-9]+(?:\.[0-9]+)?)\.(?:wav|WAV|wav49|gsm|mp3)$/;

const freepbx: MetadataPreset = {
  sidecarsOf: () => [],
  read(audioPath, _sidecar, ctx) {
    const m = FREEPBX_NAME.exec(path.basename(audioPath));
    if (!m?.groups) throw new ItemRejected('unrecognised-file-name');
    const g = m.groups as Record<'queue' | 'caller' | 'date' | 'time' | 'uniqueid', string>;
    return fromFields({ callId: g.uniqueid, start: `${g.date}-${g.time}`, startFormat: 'yyyyMMdd-HHmmss', caller: g.caller, queue: g.queue }, ctx);
  },
};

/** The fields a layout yields, as text, before validation. */
interface RawFields {
  callId?: string;
  /** ISO 8601 with an offset, Unix seconds, or a local time in `startFormat` (default ISO without offset). */
  start?: string;
  startFormat?: string;
  end?: string;
  /** Seconds, when the layout gives a duration instead of an end. */
  durationS?: string;
  caller?: string;
  queue?: string;
  agent?: string;
}

/** A time as a layout writes it: with an offset, as Unix seconds, or local in the source's zone. */
function instantOf(value: string, format: string | undefined, ctx: PresetContext): { at: Date; ambiguous: boolean } {
  const v = value.trim();
  if (/^\d{9,11}(\.\d+)?$/.test(v)) return { at: new Date(Number(v) * 1000), ambiguous: false };
  if (!format && /(Z|[+-]\d{2}:?\d{2})$/.test(v)) {
    const d = DateTime.fromISO(v, { setZone: true });
    if (!d.isValid) throw new ItemRejected('invalid-metadata');
    return { at: d.toJSDate(), ambiguous: false };
  }
  // The wall-clock fields first (read as if UTC), then placed in the zone: DST rules in one place.
  const wall = format ? DateTime.fromFormat(v, format, { zone: 'utc' }) : DateTime.fromISO(v.replace(' ', 'T'), { zone: 'utc' });
  if (!wall.isValid) throw new ItemRejected('invalid-metadata');
  const t = instantOfLocalTime({ year: wall.year, month: wall.month, day: wall.day, hour: wall.hour, minute: wall.minute, second: wall.second }, ctx.timeZone);
  if (!t.ok) throw new ItemRejected(t.reason);
  return t;
}

/**
 * Raw fields to the webhook's metadata. A caller field that is not a phone number ("anonymous", an
 * internal extension, empty) is no caller's number: the call is kept without a caller key.
 */
function fromFields(f: RawFields, ctx: PresetContext): ItemMetadata {
  if (!f.callId || !f.start) throw new ItemRejected('missing-metadata');
  const start = instantOf(f.start, f.startFormat, ctx);
  let end: Date | null = null;
  if (f.end) end = instantOf(f.end, f.startFormat, ctx).at;
  else if (f.durationS && /^\d+(\.\d+)?$/.test(f.durationS.trim())) end = new Date(start.at.getTime() + Number(f.durationS) * 1000);
  let caller: string | null = null;
  try {
    if (f.caller?.trim()) caller = normaliseNumber(f.caller);
  } catch {
    caller = null;
  }
  const json = JSON.stringify({
    callId: f.callId.trim(),
    startedAt: start.at.toISOString(),
    endedAt: (end ?? start.at).toISOString(),
    caller,
    queue: f.queue?.trim() || null,
    agentId: f.agent?.trim() || null,
  });
  return { meta: validated(json, ctx), endFromDuration: end === null, ambiguousStart: start.ambiguous };
}

/** Every element and attribute of an XML document by lower-cased local name, first occurrence wins. */
function flattenXml(text: string): Map<string, string> {
  let doc: unknown;
  try {
    doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, removeNSPrefix: true, processEntities: true }).parse(text, true);
  } catch {
    throw new ItemRejected('unreadable-metadata');
  }
  const out = new Map<string, string>();
  const walk = (v: unknown, key: string | null): void => {
    if (v === null || v === undefined) return;
    if (typeof v === 'object') {
      if (Array.isArray(v)) return v.forEach((x) => walk(x, key));
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, k === '#text' ? key : k);
      return;
    }
    if (key && !out.has(key.toLowerCase())) out.set(key.toLowerCase(), String(v));
  };
  walk(doc, null);
  return out;
}

const pick = (m: Map<string, string>, ...names: string[]): string | undefined => names.map((n) => m.get(n)).find((v) => v !== undefined && v.trim() !== '');

/**
 * Puzzel: `<sessionID>_<n>.<ext>` with `<sessionID>_<n>.XML` beside it. The call id is the file's base
 * name (one id per recording of a session); the XML's elements are found by name wherever they are
 * nested (sessionId, start, finish or duration, remoteAddress, queue_key, user_id).
 */
const PUZZEL_NAME = /^(?<session>[A-Za-z0-9.-]+)_(?<n>\d+)$/;
const puzzelXml: MetadataPreset = {
  sidecarsOf: (p) => [baseOf(p) + '.XML', baseOf(p) + '.xml'],
  read(audioPath, sidecar, ctx) {
    if (!sidecar) throw new ItemRejected('missing-metadata');
    const m = PUZZEL_NAME.exec(path.basename(baseOf(audioPath)));
    if (!m?.groups) throw new ItemRejected('unrecognised-file-name');
    const x = flattenXml(sidecar.toString('utf8'));
    return fromFields(
      {
        callId: `${m.groups.session}-${m.groups.n}`,
        start: pick(x, 'start', 'starttime', 'start_time', 'recording_start', 'dte_start'),
        end: pick(x, 'finish', 'end', 'endtime', 'end_time', 'recording_end'),
        durationS: pick(x, 'duration', 'duration_tot_sec', 'duration_sec'),
        caller: pick(x, 'remoteaddress', 'remote_address', 'ani', 'callernumber'),
        queue: pick(x, 'queue_key', 'queuekey', 'queue'),
        agent: pick(x, 'user_id', 'agent_id', 'userid', 'agentid'),
      },
      ctx,
    );
  },
};

/** `key=value` lines (the form a dialplan `System(echo …)` writes), blank lines and # comments ignored. */
function keyValues(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const l = line.trim();
    if (!l || l.startsWith('#')) continue;
    const i = l.indexOf('=');
    if (i <= 0) throw new ItemRejected('unreadable-metadata');
    out.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
  }
  return out;
}

/**
 * Asterisk MixMonitor: the audio with a sidecar its command writes, `<name>.json` (the webhook's fields)
 * or `<name>.txt` / `<name>.meta` as key=value (callId or uniqueid, startedAt or epoch, endedAt or
 * duration, caller or callerid, queue, agentId or agent). Local times are in the source's zone.
 */
const asteriskMixMonitor: MetadataPreset = {
  sidecarsOf: (p) => [baseOf(p) + '.json', baseOf(p) + '.txt', baseOf(p) + '.meta'],
  read(_audioPath, sidecar, ctx) {
    if (!sidecar) throw new ItemRejected('missing-metadata');
    const text = sidecar.toString('utf8');
    let m: Map<string, string>;
    if (text.trimStart().startsWith('{')) m = jsonFields(text);
    else m = keyValues(text);
    return fromFields(
      {
        callId: pick(m, 'callid', 'uniqueid', 'linkedid'),
        start: pick(m, 'startedat', 'start', 'epoch'),
        end: pick(m, 'endedat', 'end'),
        durationS: pick(m, 'duration'),
        caller: pick(m, 'caller', 'callerid', 'callerid_num'),
        queue: pick(m, 'queue'),
        agent: pick(m, 'agentid', 'agent'),
      },
      ctx,
    );
  },
};

/** A regular expression over the file name with named groups callId, startedAt, caller, queue, agent. */
function customPreset(pattern: string, timeFormat?: string): MetadataPreset {
  const re = new RegExp(pattern);
  return {
    sidecarsOf: () => [],
    read(audioPath, _sidecar, ctx) {
      const g = re.exec(path.basename(audioPath))?.groups;
      if (!g) throw new ItemRejected('unrecognised-file-name');
      return fromFields({ callId: g.callId, start: g.startedAt, startFormat: timeFormat, caller: g.caller, queue: g.queue, agent: g.agent }, ctx);
    },
  };
}

/** A number as platforms write it in metadata: `tel:+46…`, `sip:+46…@host`, or plain. */
function numberOf(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  return v.trim().replace(/^(tel|sip|sips):/i, '').replace(/@.*$/, '').replace(/;.*$/, '');
}

/** A JSON object's scalar fields (strings and numbers) by lower-cased name; an array field gives its first. */
function jsonFields(text: string): Map<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ItemRejected('unreadable-metadata');
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new ItemRejected('unreadable-metadata');
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(json as Record<string, unknown>)) {
    const first = Array.isArray(v) ? v.find((x) => typeof x === 'string' || typeof x === 'number') : v;
    if (typeof first === 'string' || typeof first === 'number') out.set(k.toLowerCase(), String(first));
  }
  return out;
}

/**
 * Genesys Cloud's recording bulk actions export to S3:
 * `{organizationId}/year=…/month=…/day=…/hour=…/conversation_id={conversationId}/{recordingId}.{ext}`
 * (UTC), with `{recordingId}_metadata.json` beside it. The call id is the conversation id (the id the
 * platform's flow knows, so a call opt-out made during the call matches); start and end, the queue,
 * the first user and the customer's ANI come from the metadata file.
 */
const GENESYS_PATH = /(?:^|\/)year=\d{4}\/month=\d{1,2}\/day=\d{1,2}\/hour=\d{1,2}\/conversation_id=(?<conversation>[A-Za-z0-9-]+)\/[^/]+$/;
const genesysBulkExport: MetadataPreset = {
  sidecarsOf: (p) => [baseOf(p) + '_metadata.json'],
  read(audioPath, sidecar, ctx) {
    const m = GENESYS_PATH.exec(audioPath);
    if (!m?.groups) throw new ItemRejected('unrecognised-file-name');
    if (!sidecar) throw new ItemRejected('missing-metadata');
    const f = jsonFields(sidecar.toString('utf8'));
    const conversation = pick(f, 'conversationid') ?? m.groups.conversation;
    if (conversation !== m.groups.conversation) throw new ItemRejected('invalid-metadata');
    return fromFields(
      {
        callId: conversation,
        start: pick(f, 'conversationstarttime', 'recordingstarttime', 'starttime'),
        end: pick(f, 'conversationendtime', 'recordingendtime', 'endtime'),
        caller: numberOf(pick(f, 'ani')),
        queue: pick(f, 'queuename', 'queuenames', 'queueid', 'queueids'),
        agent: pick(f, 'userid', 'userids'),
      },
      ctx,
    );
  },
};

/**
 * Amazon Connect's call recordings: `…/CallRecordings/yyyy/mm/dd/{contactId}_{yyyyMMdd}T{HH:mm}_UTC.wav`.
 * The contact id is the call id, the name's time (UTC) the start, the end the start plus the audio's
 * duration. Connect writes no caller into the object: a `caller` tag or user metadata (`x-amz-meta-caller`)
 * that the municipality's set-up adds is read, with `queue`, `agent`, `startedAt` and `endedAt`;
 * without it the call is kept as *unknown caller* (docs/sources.md says how to supply it).
 */
const CONNECT_NAME = /^(?<contact>[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})_(?<date>\d{8})T(?<time>\d{2}:\d{2}(?::\d{2})?)_UTC\.(?:wav|WAV)$/;
const amazonConnect: MetadataPreset = {
  sidecarsOf: () => [],
  usesAttributes: true,
  read(audioPath, _sidecar, ctx, attributes) {
    const m = CONNECT_NAME.exec(path.basename(audioPath));
    if (!m?.groups) throw new ItemRejected('unrecognised-file-name');
    const a = attributes ?? new Map<string, string>();
    const g = m.groups as Record<'contact' | 'date' | 'time', string>;
    const time = g.time.length === 5 ? `${g.time}:00` : g.time;
    const named = `${g.date.slice(0, 4)}-${g.date.slice(4, 6)}-${g.date.slice(6, 8)}T${time}Z`;
    return fromFields(
      {
        callId: pick(a, 'contactid', 'contact-id') ?? g.contact,
        start: pick(a, 'startedat', 'started-at') ?? named,
        end: pick(a, 'endedat', 'ended-at'),
        caller: numberOf(pick(a, 'caller', 'customernumber', 'customer-number', 'ani')),
        queue: pick(a, 'queue'),
        agent: pick(a, 'agent', 'agentid', 'agent-id'),
      },
      ctx,
    );
  },
};

export const PRESETS: Record<string, MetadataPreset> = {
  'generic-json': genericJson,
  freepbx,
  'puzzel-xml': puzzelXml,
  'asterisk-mixmonitor': asteriskMixMonitor,
  'genesys-bulk-export': genesysBulkExport,
  'amazon-connect': amazonConnect,
};

/** The preset a source's metadata mapping names. */
export function presetFor(m: MetadataConfig): MetadataPreset {
  return m.preset === 'custom' ? customPreset(m.pattern, m.timeFormat) : PRESETS[m.preset]!;
}

/**
 * Item ids: HMAC-SHA256 of source name and path under a key derived from the caller-key secret. Stable
 * across restarts and instances (so a crashed take is found again), useless for reading back a path.
 */
export function createItemIds(callerKeySecret: string): (source: string, itemPath: string) => string {
  const key = createHmac('sha256', callerKeySecret).update('gallra:source-item-id').digest();
  return (source, itemPath) => createHmac('sha256', key).update(`${source}\u0000${itemPath}`, 'utf8').digest('hex');
}
