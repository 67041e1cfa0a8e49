import { readFileSync } from 'node:fs';
import path from 'node:path';
import { IANAZone } from 'luxon';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { judgeRegion, parseRegionExceptions, RegionRefused, type RegionJudgement } from '../shared/eea-regions.js';

/**
 * The sources file (SOURCES_FILE, JSON or YAML): the places gallra polls for recordings. Validated
 * once at start; an error names the source and the field. Secrets are never inline: a key, passphrase
 * or password is given as a file path (`…File`) or the name of an environment variable (`…Env`).
 */

export class SourcesConfigError extends Error {}

const DURATION_UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)$/, 'a duration such as 30s, 5m or 1h')
  .transform((v) => Number.parseInt(v, 10) * DURATION_UNITS[v.replace(/^\d+/, '') as keyof typeof DURATION_UNITS]);

/**
 * A poll interval as the 6-field cron expression the job scheduler runs (UTC): it must divide a minute,
 * an hour or a day so that polls are evenly spaced.
 */
export function cronForInterval(ms: number): string | null {
  const s = ms / 1000;
  if (Number.isInteger(s) && s >= 1 && s < 60 && 60 % s === 0) return `*/${s} * * * * *`;
  const m = ms / 60_000;
  if (Number.isInteger(m) && m >= 1 && m < 60 && 60 % m === 0) return `0 */${m} * * * *`;
  const h = ms / 3_600_000;
  if (Number.isInteger(h) && h >= 1 && h <= 24 && 24 % h === 0) return h === 24 ? '0 0 0 * * *' : `0 0 */${h} * * *`;
  return null;
}

const secretRef = (what: string) => ({
  [`${what}File`]: z.string().min(1).optional(),
  [`${what}Env`]: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name').optional(),
});

const metadata = z.discriminatedUnion('preset', [
  z.object({ preset: z.literal('generic-json') }).strict(),
  z.object({ preset: z.literal('freepbx') }).strict(),
  z.object({ preset: z.literal('puzzel-xml') }).strict(),
  z.object({ preset: z.literal('asterisk-mixmonitor') }).strict(),
  z.object({ preset: z.literal('genesys-bulk-export') }).strict(),
  z.object({ preset: z.literal('amazon-connect') }).strict(),
  z
    .object({
      preset: z.literal('custom'),
      /** Over the file name; named groups callId and startedAt (required), caller, queue, agent. */
      pattern: z.string().superRefine((v, ctx) => {
        let re: RegExp;
        try {
          re = new RegExp(v);
        } catch {
          ctx.addIssue({ code: 'custom', message: 'not a valid regular expression' });
          return;
        }
        const groups = Object.keys(new RegExp(`${re.source}|`).exec('')?.groups ?? {});
        for (const g of ['callId', 'startedAt']) if (!groups.includes(g)) ctx.addIssue({ code: 'custom', message: `needs a named group (?<${g}>…)` });
        for (const g of groups) if (!['callId', 'startedAt', 'caller', 'queue', 'agent'].includes(g)) ctx.addIssue({ code: 'custom', message: `unknown group ${g}: use callId, startedAt, caller, queue, agent` });
      }),
      /** How startedAt is written, in Luxon's tokens (e.g. yyyyMMdd-HHmmss); default ISO 8601 or Unix seconds. */
      timeFormat: z.string().min(1).optional(),
    })
    .strict(),
]);

const common = {
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes, at most 63')
    .refine((v) => v !== 'webhook', "'webhook' is the webhook's own source name"),
  pollInterval: duration.default(60_000).refine((v) => cronForInterval(v) !== null, 'must divide a minute, an hour or a day (e.g. 15s, 1m, 5m, 1h)'),
  /** How long size and modification time must stay the same before a file is taken. */
  settle: duration.default(30_000),
  /** How long one instance may take an item before another (or a restarted one) may finish it. */
  lease: duration.default(15 * 60_000).refine((v) => v >= 5_000, 'at least 5s'),
  concurrency: z.number().int().min(1).max(32).default(4),
  maxFileBytes: z.number().int().min(1024).default(512 * 1024 * 1024),
  include: z.string().min(1).default('**/*.{wav,WAV,mp3,MP3,flac,FLAC,opus,ogg}'),
  timeZone: z
    .string()
    .default('Europe/Stockholm')
    .refine((v) => IANAZone.isValidZone(v), 'an IANA time zone such as Europe/Stockholm'),
  metadata,
  deleteAtSource: z.boolean().default(true),
  /** Required when deleteAtSource is false: why copies may stay at the source. */
  keepReason: z.string().min(10, 'a written reason of at least 10 characters').optional(),
};

const INLINE_SECRETS = ['password', 'privateKey', 'passphrase', 'key', 'secretAccessKey', 'sessionToken'];

const folderSource = z.object({ ...common, adapter: z.literal('folder'), path: z.string().min(1) }).strict();

const sftpSource = z
  .object({
    ...common,
    adapter: z.literal('sftp'),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(22),
    username: z.string().min(1),
    directory: z.string().min(1).default('.'),
    /** The server's host key fingerprint as OpenSSH prints it: SHA256:<base64, no padding>. */
    hostKeySha256: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'SHA256:<43 base64 characters>, as `ssh-keygen -l -f <host key>.pub` prints it'),
    auth: z.enum(['key', 'password']).default('key'),
    ...secretRef('privateKey'),
    ...secretRef('passphrase'),
    ...secretRef('password'),
    connectTimeout: duration.default(10_000),
  })
  .strict();

// ── bucket sources (issue #28): an S3-compatible bucket of the platform's, in another account ──
const bucketSource = z
  .object({
    ...common,
    adapter: z.literal('bucket'),
    /** The platform's bucket, e.g. the one Genesys Cloud's recording bulk actions or Amazon Connect write to. */
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name'),
    /** Only keys under this prefix are recordings of this source (e.g. the Genesys organization id and a slash). */
    prefix: z.string().default(''),
    /** The bucket's region, judged like the store's: in the EU/EEA, or named in ALLOW_NON_EEA_REGION. */
    region: z.string().min(1),
    /** An S3-compatible endpoint (not AWS); default AWS for the region. */
    endpoint: z.string().url().optional(),
    forcePathStyle: z.boolean().default(false),
    ...secretRef('accessKeyId'),
    ...secretRef('secretAccessKey'),
    ...secretRef('sessionToken'),
    requestChecksum: z.enum(['when_supported', 'when_required']).default('when_supported'),
    /** Keys per listing page; lower only to test paging. */
    listPageSize: z.number().int().min(1).max(1000).default(1000),
  })
  .strict();
// ── end of bucket sources ──

// notify sources' schema (the rest of their block is at the end of the file).
const hostName = z.string().regex(/^[a-z0-9.-]+(:\d{1,5})?$/i, 'a host name (optionally :port), no scheme or path');

const notifySource = z
  .object({
    ...common,
    metadata: metadata.optional(),
    adapter: z.literal('notify'),
    platform: z.enum(['twilio', '46elks']),
    /**
     * The URL the platform is configured to call, exactly as it is written there: Twilio signs it, and
     * behind a TLS proxy gallra itself sees another URL.
     */
    publicUrl: z.url({ protocol: /^https?$/ }),
    /** Twilio: the account's SID (AC…), used for the Calls lookup and the deletion. */
    accountSid: z.string().regex(/^AC[0-9a-f]{32}$/, 'a Twilio account SID (AC + 32 hex digits)').optional(),
    ...secretRef('authToken'),
    /** Twilio: a webhook SharedKey secret that signs instead of the auth token, when the account has one. */
    ...secretRef('signingKey'),
    /** 46elks and others: the HTTP Basic user name the platform sends (the password by basicPasswordFile/Env). */
    basicUser: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, '1–64 of A–Z a–z 0–9 . _ -').optional(),
    ...secretRef('basicPassword'),
    /** 46elks: the API user name sent (with apiPasswordFile/Env) when fetching the audio. */
    apiUser: z.string().min(1).max(128).optional(),
    ...secretRef('apiPassword'),
    /** The platform's API (the Calls lookup, the deletion). Default the platform's own. */
    apiBase: z.url({ protocol: /^https?$/ }).optional(),
    /** Hosts audio and lookups may be fetched from (https only, public addresses only). Default the platform's API host. */
    allowedHosts: z.array(hostName).min(1).optional(),
    /** Hosts that may be plain http and loopback or private: for tests only, never in production. */
    testHosts: z.array(hostName).default([]),
    /** Twilio: the format fetched from the recording URL. */
    mediaFormat: z.enum(['wav', 'mp3']).default('wav'),
    /** How long one fetch (lookup, audio, deletion) may take. */
    fetchTimeout: duration.default(120_000),
    /** The first retry's wait after a failed fetch; doubled per failure up to 1h. */
    retryAfter: duration.default(30_000),
  })
  .strict();

const sourceSchema = z.discriminatedUnion('adapter', [folderSource, sftpSource, bucketSource, notifySource]).superRefine((s, ctx) => {
  if (!s.deleteAtSource && !s.keepReason) ctx.addIssue({ code: 'custom', path: ['keepReason'], message: 'required when deleteAtSource is false' });
  if (s.adapter === 'notify') refineNotify(s, ctx);
  if (s.adapter === 'sftp') {
    const r = s as Record<string, unknown>;
    if (s.auth === 'key' && !r.privateKeyFile && !r.privateKeyEnv) ctx.addIssue({ code: 'custom', path: ['privateKeyFile'], message: 'required for key authentication (or privateKeyEnv)' });
    if (s.auth === 'password' && !r.passwordFile && !r.passwordEnv) ctx.addIssue({ code: 'custom', path: ['passwordFile'], message: 'required when auth is password (or passwordEnv)' });
  }
  if (s.adapter === 'bucket') {
    const r = s as Record<string, unknown>;
    for (const what of ['accessKeyId', 'secretAccessKey']) {
      if (!r[`${what}File`] && !r[`${what}Env`]) ctx.addIssue({ code: 'custom', path: [`${what}File`], message: `required (or ${what}Env): the platform's bucket is read with credentials of its own, never the store's` });
    }
  }
});

const fileSchema = z.object({ sources: z.array(z.unknown()).min(1, 'at least one source') }).strict();

type Parsed = z.output<typeof sourceSchema>;

/** How a source's items carry their metadata: a named preset, or a regular expression over the file name. */
export type MetadataConfig =
  | { preset: 'generic-json' | 'freepbx' | 'puzzel-xml' | 'asterisk-mixmonitor' | 'genesys-bulk-export' | 'amazon-connect' }
  | { preset: 'custom'; pattern: string; timeFormat?: string };

interface CommonConfig {
  name: string;
  pollIntervalMs: number;
  /** The 6-field cron expression polls run on (UTC). */
  schedule: string;
  settleMs: number;
  /** How long one instance may take an item before another may finish it (a crashed take waits this long); default 15 minutes. */
  leaseMs?: number;
  concurrency: number;
  maxFileBytes: number;
  include: string;
  timeZone: string;
  metadata: MetadataConfig;
  deleteAtSource: boolean;
  keepReason?: string;
}
export interface FolderSourceConfig extends CommonConfig {
  adapter: 'folder';
  path: string;
}
export interface SftpSourceConfig extends CommonConfig {
  adapter: 'sftp';
  host: string;
  port: number;
  username: string;
  directory: string;
  hostKeySha256: string;
  privateKey?: Buffer;
  passphrase?: string;
  password?: string;
  connectTimeoutMs: number;
}
// ── bucket sources (issue #28) ──
export interface BucketSourceConfig extends CommonConfig {
  adapter: 'bucket';
  bucket: string;
  prefix: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  requestChecksum: 'when_supported' | 'when_required';
  listPageSize: number;
  /** How the bucket's region was judged at start (an exception is audited at every start). */
  residency: RegionJudgement;
}
// ── end of bucket sources ──
export type SourceConfig = FolderSourceConfig | SftpSourceConfig | BucketSourceConfig | NotifySourceConfig;
/** The sources gallra polls (an adapter lists and reads files), as opposed to those that notify it. */
export type PolledSourceConfig = FolderSourceConfig | SftpSourceConfig | BucketSourceConfig;

/** Reads and validates the sources file; `env` resolves `…Env` references. Throws SourcesConfigError naming the source and field. */
export function loadSourcesFile(file: string, env: Record<string, string | undefined>): SourceConfig[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SourcesConfigError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let raw: unknown;
  try {
    raw = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new SourcesConfigError(`${file} is not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`);
  }
  return parseSources(raw, env, path.dirname(path.resolve(file)));
}

/** Validates a parsed sources document; relative `…File` paths are read from `baseDir`. */
export function parseSources(raw: unknown, env: Record<string, string | undefined>, baseDir: string): SourceConfig[] {
  const top = fileSchema.safeParse(raw);
  if (!top.success) throw new SourcesConfigError(top.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; '));
  const problems: string[] = [];
  const out: SourceConfig[] = [];
  const names = new Set<string>();
  top.data.sources.forEach((item, n) => {
    const label = `sources[${n}]${item && typeof item === 'object' && typeof (item as { name?: unknown }).name === 'string' ? ` "${(item as { name: string }).name}"` : ''}`;
    if (item && typeof item === 'object') {
      for (const k of INLINE_SECRETS) {
        if (k in item) problems.push(`${label}: ${k}: secrets are never inline; give ${k === 'key' ? 'privateKey' : k}File (a path) or ${k === 'key' ? 'privateKey' : k}Env (a variable name)`);
      }
    }
    const parsed = sourceSchema.safeParse(item);
    if (!parsed.success) {
      for (const i of parsed.error.issues) {
        if (i.code === 'unrecognized_keys' && i.keys.every((k) => INLINE_SECRETS.includes(k))) continue;
        problems.push(`${label}: ${i.path.join('.') || '(source)'}: ${i.message}`);
      }
      return;
    }
    if (names.has(parsed.data.name)) problems.push(`${label}: name: used by another source`);
    names.add(parsed.data.name);
    try {
      out.push(resolve(parsed.data, env, baseDir));
    } catch (err) {
      problems.push(`${label}: ${(err as Error).message}`);
    }
  });
  if (problems.length) throw new SourcesConfigError(problems.join('\n  '));
  return out;
}

function resolve(s: Parsed, env: Record<string, string | undefined>, baseDir: string): SourceConfig {
  const common: CommonConfig = {
    name: s.name,
    pollIntervalMs: s.pollInterval,
    schedule: cronForInterval(s.pollInterval)!,
    settleMs: s.settle,
    leaseMs: s.lease,
    concurrency: s.concurrency,
    maxFileBytes: s.maxFileBytes,
    include: s.include,
    timeZone: s.timeZone,
    metadata: s.metadata ?? { preset: 'generic-json' },
    deleteAtSource: s.deleteAtSource,
    ...(s.keepReason ? { keepReason: s.keepReason } : {}),
  };
  if (s.adapter === 'folder') return { ...common, adapter: 'folder', path: path.resolve(baseDir, s.path) };
  const r = s as Record<string, unknown>;
  const secret = (what: string): Buffer | undefined => {
    const file = r[`${what}File`] as string | undefined;
    const variable = r[`${what}Env`] as string | undefined;
    if (file) {
      try {
        return readFileSync(path.resolve(baseDir, file));
      } catch (err) {
        throw new Error(`${what}File: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    if (variable) {
      const v = env[variable];
      if (v === undefined || v === '') throw new Error(`${what}Env: the variable ${variable} is not set`);
      return Buffer.from(v, 'utf8');
    }
    return undefined;
  };
  if (s.adapter === 'bucket') return resolveBucket(s, common, secret, env);
  if (s.adapter === 'notify') return resolveNotify(s, common, secret);
  const privateKey = s.auth === 'key' ? secret('privateKey') : undefined;
  const passphrase = secret('passphrase')?.toString('utf8').trimEnd();
  const password = s.auth === 'password' ? secret('password')?.toString('utf8').replace(/\r?\n$/, '') : undefined;
  return {
    ...common,
    adapter: 'sftp',
    host: s.host,
    port: s.port,
    username: s.username,
    directory: s.directory,
    hostKeySha256: s.hostKeySha256,
    ...(privateKey ? { privateKey } : {}),
    ...(passphrase ? { passphrase } : {}),
    ...(password !== undefined ? { password } : {}),
    connectTimeoutMs: s.connectTimeout,
  };
}

// ── bucket sources (issue #28) ──
function resolveBucket(
  s: Extract<Parsed, { adapter: 'bucket' }>,
  common: CommonConfig,
  secret: (what: string) => Buffer | undefined,
  env: Record<string, string | undefined>,
): BucketSourceConfig {
  const exceptions = parseRegionExceptions(env.ALLOW_NON_EEA_REGION ?? '');
  if ('error' in exceptions) throw new Error(`region: ALLOW_NON_EEA_REGION: ${exceptions.error}`);
  let residency: RegionJudgement;
  try {
    residency = judgeRegion(s.region, exceptions, 'region');
  } catch (err) {
    if (err instanceof RegionRefused) throw new Error(err.message);
    throw err;
  }
  const text = (what: string): string | undefined => secret(what)?.toString('utf8').trim();
  const sessionToken = text('sessionToken');
  return {
    ...common,
    adapter: 'bucket',
    bucket: s.bucket,
    prefix: s.prefix,
    region: s.region,
    ...(s.endpoint ? { endpoint: s.endpoint } : {}),
    forcePathStyle: s.forcePathStyle,
    credentials: { accessKeyId: text('accessKeyId')!, secretAccessKey: text('secretAccessKey')!, ...(sessionToken ? { sessionToken } : {}) },
    requestChecksum: s.requestChecksum,
    listPageSize: s.listPageSize,
    residency,
  };
}

// ---------------------------------------------------------------------------------------------------
// notify sources (Twilio, 46elks): the platform calls POST /v1/sources/{name}/notify, gallra fetches.
// Kept in one block: the bucket source's config lives in its own block.

const PLATFORM_API: Record<NotifyPlatform, string> = { twilio: 'https://api.twilio.com', '46elks': 'https://api.46elks.com' };
type ParsedNotify = z.output<typeof notifySource>;

function refineNotify(s: ParsedNotify, ctx: z.RefinementCtx): void {
  const r = s as Record<string, unknown>;
  if (s.platform === 'twilio') {
    if (!s.accountSid) ctx.addIssue({ code: 'custom', path: ['accountSid'], message: 'required for Twilio' });
    if (!r.authTokenFile && !r.authTokenEnv) ctx.addIssue({ code: 'custom', path: ['authTokenFile'], message: 'required for Twilio (or authTokenEnv)' });
  } else {
    if (!s.basicUser) ctx.addIssue({ code: 'custom', path: ['basicUser'], message: 'required: the platform authenticates with HTTP Basic' });
    if (!r.basicPasswordFile && !r.basicPasswordEnv) ctx.addIssue({ code: 'custom', path: ['basicPasswordFile'], message: 'required (or basicPasswordEnv)' });
  }
  // Twilio may need ?bodySHA256 in its URL; elsewhere a query string is where secrets end up.
  if (s.platform !== 'twilio' && (new URL(s.publicUrl).search || new URL(s.publicUrl).hash)) {
    ctx.addIssue({ code: 'custom', path: ['publicUrl'], message: 'no query string: a secret never goes into a URL' });
  }
  const hosts = new Set(s.testHosts.map((h) => h.toLowerCase()));
  // The lookup and the deletion go to the API host: it must be allowed like the media host.
  const api = new URL(s.apiBase ?? PLATFORM_API[s.platform]).host.toLowerCase();
  if (s.allowedHosts && !s.allowedHosts.some((h) => h.toLowerCase() === api) && !hosts.has(api)) {
    ctx.addIssue({ code: 'custom', path: ['allowedHosts'], message: `must include the API host ${api} (the call lookup and the deletion go there)` });
  }
  if (new URL(s.publicUrl).protocol === 'http:' && !hosts.has(new URL(s.publicUrl).host.toLowerCase())) {
    ctx.addIssue({ code: 'custom', path: ['publicUrl'], message: 'https only (plain http only for a test host)' });
  }
}

export type NotifyPlatform = 'twilio' | '46elks';

export interface NotifySourceConfig extends CommonConfig {
  adapter: 'notify';
  platform: NotifyPlatform;
  publicUrl: string;
  accountSid?: string;
  /** Twilio: the account's auth token (API access, and the signature unless signingKey is set). */
  authToken?: string;
  signingKey?: string;
  basicUser?: string;
  basicPassword?: string;
  apiUser?: string;
  apiPassword?: string;
  apiBase: string;
  /** Lower-case host[:port] names audio and lookups may be fetched from. */
  allowedHosts: string[];
  /** Lower-case host[:port] names that may be http and resolve to loopback or private addresses (tests only). */
  testHosts: string[];
  mediaFormat: 'wav' | 'mp3';
  fetchTimeoutMs: number;
  retryAfterMs: number;
}

function resolveNotify(s: ParsedNotify, common: CommonConfig, read: (what: string) => Buffer | undefined): NotifySourceConfig {
  const secret = (what: string): string | undefined => read(what)?.toString('utf8').replace(/\r?\n$/, '');
  const apiBase = (s.apiBase ?? PLATFORM_API[s.platform]).replace(/\/+$/, '');
  const authToken = secret('authToken');
  const signingKey = secret('signingKey');
  const basicPassword = secret('basicPassword');
  const apiPassword = secret('apiPassword');
  return {
    ...common,
    // The platform delivers: nothing is listed, so the file-matching settings do not apply.
    metadata: { preset: 'generic-json' },
    adapter: 'notify',
    platform: s.platform,
    publicUrl: s.publicUrl,
    ...(s.accountSid ? { accountSid: s.accountSid } : {}),
    ...(authToken ? { authToken } : {}),
    ...(signingKey ? { signingKey } : {}),
    ...(s.basicUser ? { basicUser: s.basicUser } : {}),
    ...(basicPassword ? { basicPassword } : {}),
    ...(s.apiUser ? { apiUser: s.apiUser } : {}),
    ...(apiPassword ? { apiPassword } : {}),
    apiBase,
    allowedHosts: (s.allowedHosts ?? [new URL(apiBase).host]).map((h) => h.toLowerCase()),
    testHosts: s.testHosts.map((h) => h.toLowerCase()),
    mediaFormat: s.mediaFormat,
    fetchTimeoutMs: s.fetchTimeout,
    retryAfterMs: s.retryAfter,
    // 46elks keeps a recording for its fetch window only and offers no deletion: nothing is left to delete.
    ...(s.platform === '46elks' ? { deleteAtSource: false, keepReason: s.keepReason ?? FORTY_SIX_ELKS_KEEP_REASON } : {}),
  };
}

/** What the Inleverans page and the report say of a 46elks source's copies. */
export const FORTY_SIX_ELKS_KEEP_REASON = '46elks keeps a recording only for its 72-hour fetch window and offers no deletion; there is nothing for gallra to delete there';
