import { randomBytes, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import cron from 'node-cron';
import { z } from 'zod';
import { judgeRegion, parseRegionExceptions, RegionRefused, type RegionException } from './shared/eea-regions.js';
// The file's schema alone (a leaf module): the sources capability's index loads use cases that need config.
import { loadSourcesFile, SourcesConfigError, type SourceConfig } from './sources/source-config.js';
import { transparencyConfig } from './audit-log/transparency-config.js';
import { parseEncryptionConfig, type EncryptionConfig } from './encryption/encryption-config.js';
import { PolicyFileError, readPolicyFile } from './retention-policy/retention-policy-config.js';

/**
 * The only reader of process.env. Parses once, fails fast naming the variable, returns a frozen object.
 * Secrets have no literal defaults: `resolveSecrets` generates missing ones once into DATA_DIR.
 */

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)$/, 'a duration such as 90s, 15m, 1h or 2d')
  .transform((v) => {
    const n = Number.parseInt(v, 10);
    const unit = v.replace(/^\d+/, '');
    const ms = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit]!;
    return n * ms;
  });

const TRUST_PROXY_FORM = 'TRUST_PROXY=10.0.0.5 (the proxy\'s address), 10.0.0.0/8 (its subnet), or loopback when it runs on this host';

/**
 * Which proxies' X-Forwarded-* headers to believe: none (false), or the listed proxy addresses/subnets
 * (and Express's names loopback, linklocal, uniquelocal). Never a hop count or "every hop": with those,
 * a client that reaches the port directly picks its own address by sending the header.
 */
const trustProxy = z.string().transform((v, ctx): false | string[] => {
  const s = v.trim().toLowerCase();
  if (s === 'false' || s === 'no' || s === '0' || s === '') return false;
  if (/^\d+$/.test(s) || s === 'true' || s === 'yes') {
    ctx.addIssue({
      code: 'custom',
      message: `takes the proxies' addresses now, not ${/^\d+$/.test(s) ? 'a hop count' : 'true'}: a client reaching the port directly would choose its own address. Set e.g. ${TRUST_PROXY_FORM}`,
    });
    return z.NEVER;
  }
  const list = s.split(',').map((x) => x.trim()).filter(Boolean);
  const bad = list.filter((x) => !['loopback', 'linklocal', 'uniquelocal'].includes(x) && !isAddressOrSubnet(x));
  if (!list.length || bad.length) {
    ctx.addIssue({ code: 'custom', message: `false, or a comma-separated list of proxy addresses or subnets: ${TRUST_PROXY_FORM}` });
    return z.NEVER;
  }
  return list;
});

function isAddressOrSubnet(v: string): boolean {
  const [addr, prefix, ...rest] = v.split('/');
  const family = isIP(addr ?? '');
  if (!family || rest.length) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** host:port of a second listener that serves only /metrics (e.g. 127.0.0.1:9464). */
const listenAddress = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'host:port, e.g. 127.0.0.1:9464')
  .transform((v) => {
    const i = v.lastIndexOf(':');
    return { host: v.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(v.slice(i + 1)) };
  });

/** One line of text shown to citizens: no markup is interpreted, but line breaks have no place in it. */
const controllerText = (max: number) => z.string().trim().min(1).max(max, `at most ${max} characters`).regex(/^[^\r\n]*$/, 'one line');

/** The roles a person can get from the identity provider (the phone system signs in with a token). */
const staffRole = z.enum(['trainer', 'auditor', 'admin']);
export type StaffRole = z.infer<typeof staffRole>;

const CONTROLLER_KEYS = ['CONTROLLER_NAME', 'CONTROLLER_ORG_NUMBER', 'CONTROLLER_CONTACT', 'DPO_CONTACT'] as const;

/** What stands in for a controller key that is not set (allowed outside NODE_ENV=production), marked as such. */
export const NOT_CONFIGURED = (name: string) => `[ej konfigurerat: ${name}]`;

/**
 * Every key once: its environment variable, check and default in the object; where it goes, in the
 * transform, whose result is the Config type.
 */
const coreConfig = z
  // Loose: the sources file's `…Env` references name variables of their own.
  .looseObject({
    PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    HOST: z.string().default('0.0.0.0'),
    DATA_DIR: z.string().min(1).default('./data'),
    DATABASE_URL: z
      .string()
      .regex(/^(sqlite:|postgres:\/\/|postgresql:\/\/)/, 'sqlite:<file> or postgres://…')
      .optional(),
    STORAGE_DRIVER: z.enum(['fs', 's3']).default('fs'),
    S3_BUCKET: z.string().min(3).optional(),
    S3_ENDPOINT: z.string().url().optional(),
    /** The store's region: must be in the EU/EEA (src/shared/data-residency.ts) unless ALLOW_NON_EEA_REGION names it. */
    S3_REGION: z.string().default('eu-north-1'),
    /** `region:reason` (several separated by `;`): a region outside the EU/EEA list allowed to hold the data, audited at every start. */
    ALLOW_NON_EEA_REGION: z.string().optional(),
    S3_FORCE_PATH_STYLE: bool.default(false),
    S3_SSE: z.enum(['none', 'AES256', 'aws:kms']).default('none'),
    S3_SSE_KMS_KEY_ID: z.string().optional(),
    S3_ACCESS_KEY_ID: z.string().optional(),
    S3_SECRET_ACCESS_KEY: z.string().optional(),
    /** "when_required" for stores that do not understand aws-chunked trailing checksums (s3rver, some appliances). */
    S3_REQUEST_CHECKSUM: z.enum(['when_supported', 'when_required']).default('when_supported'),
    /** Time to open a connection to the store, and the longest silence of the store within one request. */
    S3_CONNECT_TIMEOUT: duration.default(3_000),
    S3_REQUEST_TIMEOUT: duration.default(10_000),
    /** The longest one store operation waits on the store, over all of the SDK's attempts. */
    S3_OPERATION_TIMEOUT: duration.default(10_000),
    /** SQLite: how long a write waits for another process's write lock (a retention run) before answering 503. */
    SQLITE_BUSY_TIMEOUT: duration.default(10_000),
    /** PostgreSQL: how long a statement waits for a lock another session holds (lock_timeout) before answering 503. */
    PG_LOCK_TIMEOUT: duration.default(10_000),
    /** The longest /readyz waits for any one of its checks (database, store, …); one that takes longer is not ready. */
    READINESS_TIMEOUT: duration.default(2_000),
    WEBHOOK_SECRETS: z
      .string()
      .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
      .pipe(z.array(z.string().regex(/^whsec_[A-Za-z0-9+/=]+$/, 'whsec_<base64>')).min(1))
      .optional(),
    WEBHOOK_TOLERANCE: duration.default(300_000),
    CALLER_KEY_SECRET: z.string().min(32, 'at least 32 characters').optional(),
    AUDIT_SIGNING_KEY: z.string().includes('PRIVATE KEY', { message: 'a PEM private key' }).optional(),
    /** A JSON key list of earlier signing keys' public keys with their validity (docs/audit-log.md §5.2). */
    AUDIT_KEY_LIST: z.string().min(1).optional(),
    /** Compliance-mode Object Lock retention for checkpoint objects (S3 buckets with Object Lock). */
    AUDIT_CHECKPOINT_RETENTION: duration.optional(),
    RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
    RETENTION_SCHEDULE: z.string().default('*/15 * * * *').refine((v) => cron.validate(v), 'a cron expression of 5 or 6 fields, read in UTC'),
    RETENTION_MARGIN: duration.optional(),
    ORPHAN_GRACE: duration.default(3_600_000),
    MAX_RECORDING_BYTES: z.coerce.number().int().min(1024).default(512 * 1024 * 1024),
    MAX_CALL_DURATION: duration.default(24 * 3_600_000),
    HEADERS_TIMEOUT: duration.default(10_000),
    REQUEST_TIMEOUT: duration.default(30_000),
    UPLOAD_TIMEOUT: duration.default(3_600_000),
    BODY_IDLE_TIMEOUT: duration.default(15_000),
    SHUTDOWN_TIMEOUT: duration.default(30_000),
    QUARANTINE_BYTES: z.coerce.number().int().min(1024).default(2 * 1024 * 1024 * 1024),
    UNVERIFIED_UPLOADS: z.coerce.number().int().min(1).default(64),
    UNVERIFIED_UPLOADS_PER_CLIENT: z.coerce.number().int().min(1).default(16),
    METRICS_LISTEN: listenAddress.optional(),
    METRICS_TOKEN: z.string().min(32, 'at least 32 characters').optional(),
    SESSION_TTL: duration.default(8 * 3_600_000),
    SESSION_IDLE: duration.default(30 * 60_000),
    OIDC_ISSUER: z.string().url().optional(),
    OIDC_CLIENT_ID: z.string().min(1).optional(),
    OIDC_CLIENT_SECRET: z.string().min(1).optional(),
    OIDC_REDIRECT_URL: z.string().url().optional(),
    OIDC_POST_LOGOUT_REDIRECT_URL: z.string().url().optional(),
    OIDC_SCOPES: z.string().default('openid profile email'),
    OIDC_ROLE_CLAIM: z.string().regex(/^[A-Za-z0-9_:/.-]+$/, 'a claim name such as groups or roles').default('groups'),
    OIDC_ROLES: z
      .string()
      .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
      .pipe(z.array(z.string().regex(/^(trainer|auditor|admin):.+$/, 'role:claim-value, role one of trainer, auditor, admin')).min(1))
      .transform((pairs) => pairs.map((p) => ({ role: staffRole.parse(p.slice(0, p.indexOf(':'))), value: p.slice(p.indexOf(':') + 1) })))
      .optional(),
    ALLOW_TOKEN_SIGNIN: bool.default(false),
    TRUST_PROXY: trustProxy.default(false),
    /** Keep an open access request's calls from deletion (as held) until it is answered, three months at most. */
    SUBJECT_REQUEST_PRESERVE: bool.default(true),
    /** A JSON or YAML file naming the sources polled for recordings (docs/sources.md); none when unset. */
    SOURCES_FILE: z.string().min(1).optional(),
    /** A JSON or YAML file that is the retention policy per queue (docs/retention.md); edited in the web interface when unset. */
    RETENTION_POLICY_FILE: z.string().min(1).optional(),
    LOG_LEVEL: z.enum(['error', 'warn', 'info', 'debug', 'silent']).default('info'),
    /** The controller (personuppgiftsansvarig) the register extract and the web interface name. */
    CONTROLLER_NAME: controllerText(200).optional(),
    CONTROLLER_ORG_NUMBER: z.string().trim().regex(/^\d{6}-?\d{4}$/, 'a Swedish organisation number, e.g. 212000-1124').optional(),
    /** Postal address, phone and e-mail, as one line. */
    CONTROLLER_CONTACT: controllerText(300).optional(),
    /** How to reach the data-protection officer (dataskyddsombud). */
    DPO_CONTACT: controllerText(300).optional(),
    /** Only "production" means anything here: secrets must then be given, never generated. */
    NODE_ENV: z.string().optional(),
  })
  .superRefine((c, ctx) => {
    if (c.STORAGE_DRIVER === 's3' && !c.S3_BUCKET) {
      ctx.addIssue({ code: 'custom', path: ['S3_BUCKET'], message: 'required when STORAGE_DRIVER=s3' });
    }
    if (c.OIDC_ISSUER) {
      for (const name of ['OIDC_CLIENT_ID', 'OIDC_REDIRECT_URL', 'OIDC_ROLES'] as const) {
        if (!c[name]) ctx.addIssue({ code: 'custom', path: [name], message: 'required when OIDC_ISSUER is set' });
      }
    }
    if (c.NODE_ENV === 'production') {
      for (const name of CONTROLLER_KEYS) {
        if (!c[name]) ctx.addIssue({ code: 'custom', path: [name], message: 'required when NODE_ENV=production: the register extract sent to citizens and the web interface name the controller and its data-protection officer' });
      }
    }
    if (c.S3_SSE === 'aws:kms' && !c.S3_SSE_KMS_KEY_ID) {
      ctx.addIssue({ code: 'custom', path: ['S3_SSE_KMS_KEY_ID'], message: 'required when S3_SSE=aws:kms' });
    }
    const exceptions = parseRegionExceptions(c.ALLOW_NON_EEA_REGION ?? '');
    if ('error' in exceptions) ctx.addIssue({ code: 'custom', path: ['ALLOW_NON_EEA_REGION'], message: exceptions.error });
    else if (c.S3_BUCKET) {
      try {
        judgeRegion(c.S3_REGION, exceptions, 'S3_REGION');
      } catch (err) {
        if (!(err instanceof RegionRefused)) throw err;
        ctx.addIssue({ code: 'custom', path: ['S3_REGION'], message: err.message.replace(/^S3_REGION /, '') });
      }
    }
  })
  .transform((e) => {
    const dataDir = path.resolve(e.DATA_DIR);
    return {
      port: e.PORT,
      host: e.HOST,
      dataDir,
      databaseUrl: e.DATABASE_URL ?? `sqlite:${path.join(dataDir, 'gallra.sqlite')}`,
      storageDriver: e.STORAGE_DRIVER,
      s3: e.S3_BUCKET
        ? {
            bucket: e.S3_BUCKET,
            endpoint: e.S3_ENDPOINT,
            region: e.S3_REGION,
            forcePathStyle: e.S3_FORCE_PATH_STYLE,
            sse: e.S3_SSE,
            sseKmsKeyId: e.S3_SSE_KMS_KEY_ID,
            credentials:
              e.S3_ACCESS_KEY_ID && e.S3_SECRET_ACCESS_KEY
                ? { accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY }
                : undefined,
            requestChecksum: e.S3_REQUEST_CHECKSUM,
            /** S3_CONNECT_TIMEOUT, S3_REQUEST_TIMEOUT: a store that does not answer is an outage, not a hang. */
            connectTimeoutMs: e.S3_CONNECT_TIMEOUT,
            requestTimeoutMs: e.S3_REQUEST_TIMEOUT,
            /**
             * S3_OPERATION_TIMEOUT: the longest one operation (an upload's store part, a deletion batch, a
             * listing page) waits on the store over all of the SDK's attempts, so that a store that never
             * answers costs an upload one wait and not three, plus its clean-up's three.
             */
            operationTimeoutMs: e.S3_OPERATION_TIMEOUT,
          }
        : undefined,
      /**
       * The S3 store's region judged against the EU/EEA promise (absent without S3_BUCKET): in the EU/EEA, or
       * outside it by a named exception (ALLOW_NON_EEA_REGION), which the service audits at every start.
       */
      storeResidency: e.S3_BUCKET ? judgeRegion(e.S3_REGION, parseRegionExceptions(e.ALLOW_NON_EEA_REGION ?? '') as RegionException[], 'S3_REGION') : undefined,
      webhookSecrets: e.WEBHOOK_SECRETS,
      webhookToleranceMs: e.WEBHOOK_TOLERANCE,
      callerKeySecret: e.CALLER_KEY_SECRET,
      auditSigningKey: e.AUDIT_SIGNING_KEY,
      /** The text of the AUDIT_KEY_LIST file. */
      auditKeyList: e.AUDIT_KEY_LIST ? readKeyList(e.AUDIT_KEY_LIST) : undefined,
      auditCheckpointRetentionMs: e.AUDIT_CHECKPOINT_RETENTION,
      retentionDays: e.RETENTION_DAYS,
      retentionSchedule: e.RETENTION_SCHEDULE,
      /** How far past the next run a deletion reaches; default one interval (from the schedule) plus one hour. */
      retentionMarginMs: e.RETENTION_MARGIN,
      orphanGraceMs: e.ORPHAN_GRACE,
      maxRecordingBytes: e.MAX_RECORDING_BYTES,
      /** The longest call accepted (endedAt − startedAt). */
      maxCallDurationMs: e.MAX_CALL_DURATION,
      sqliteBusyTimeoutMs: e.SQLITE_BUSY_TIMEOUT,
      pgLockTimeoutMs: e.PG_LOCK_TIMEOUT,
      /** The bound of each /readyz check. */
      readinessTimeoutMs: e.READINESS_TIMEOUT,
      /** The HTTP edge: time limits, the unverified-upload quarantine and where /metrics is served. */
      edge: {
        /** Time to receive a request's headers. */
        headersTimeoutMs: e.HEADERS_TIMEOUT,
        /** Time to receive a whole request (headers and body), for every route but the upload. */
        requestTimeoutMs: e.REQUEST_TIMEOUT,
        /** Time to receive a whole upload. */
        uploadTimeoutMs: e.UPLOAD_TIMEOUT,
        /** Longest silence while a body is being received. */
        bodyIdleTimeoutMs: e.BODY_IDLE_TIMEOUT,
        /** After SIGTERM, how long in-flight requests may finish before their connections are closed. */
        shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT,
        /** Bytes of uploads whose signature is not yet checked, all uploads together. */
        quarantineBytes: e.QUARANTINE_BYTES,
        /** Uploads whose signature is not yet checked, at once: in total and per client address. */
        unverifiedUploads: e.UNVERIFIED_UPLOADS,
        unverifiedUploadsPerClient: e.UNVERIFIED_UPLOADS_PER_CLIENT,
        /** A second listener serving only /metrics. */
        metricsListen: e.METRICS_LISTEN,
        /** Bearer token for /metrics on the main listener. */
        metricsToken: e.METRICS_TOKEN,
      },
      /** Absolute lifetime of a browser session. */
      sessionTtlMs: e.SESSION_TTL,
      /** A browser session not used for this long ends. */
      sessionIdleMs: e.SESSION_IDLE,
      /** Staff sign-in with the municipality's OpenID Connect provider; unset: staff sign in with access tokens. */
      oidc: e.OIDC_ISSUER
        ? {
            issuer: e.OIDC_ISSUER,
            clientId: e.OIDC_CLIENT_ID!,
            /** Absent for a public client (PKCE only). */
            clientSecret: e.OIDC_CLIENT_SECRET,
            redirectUrl: e.OIDC_REDIRECT_URL!,
            /** Where the provider sends the browser after signing out; default the redirect URL's origin. */
            postLogoutRedirectUrl: e.OIDC_POST_LOGOUT_REDIRECT_URL ?? new URL('/', e.OIDC_REDIRECT_URL!).href,
            scopes: e.OIDC_SCOPES,
            /** The claim holding group ids or app roles ("groups", "roles"; a dotted path reaches nested claims). */
            roleClaim: e.OIDC_ROLE_CLAIM,
            /** Which claim value gives which role; one person may match several (they get the union). */
            roles: e.OIDC_ROLES!,
          }
        : undefined,
      /** Whether the web interface's token sign-in stays available although OIDC is configured. */
      allowTokenSignIn: e.ALLOW_TOKEN_SIGNIN,
      /** Express's "trust proxy": false, or the proxies' addresses/subnets (never a hop count). */
      trustProxy: e.TRUST_PROXY,
      logLevel: e.LOG_LEVEL,
      /**
       * The controller (personuppgiftsansvarig) as the register extract and the web interface name it. Outside
       * NODE_ENV=production a key not set reads NOT_CONFIGURED(<KEY>), and `configured` is false.
       */
      controller: {
        name: e.CONTROLLER_NAME ?? NOT_CONFIGURED('CONTROLLER_NAME'),
        orgNumber: e.CONTROLLER_ORG_NUMBER ?? NOT_CONFIGURED('CONTROLLER_ORG_NUMBER'),
        contact: e.CONTROLLER_CONTACT ?? NOT_CONFIGURED('CONTROLLER_CONTACT'),
        dpoContact: e.DPO_CONTACT ?? NOT_CONFIGURED('DPO_CONTACT'),
        configured: CONTROLLER_KEYS.every((k) => e[k] !== undefined),
      },
      /** An open access request preserves the calls it matches. */
      subjectRequestPreserve: e.SUBJECT_REQUEST_PRESERVE,
      /** SOURCES_FILE: the places polled for recordings, validated at start; none when unset. */
      sources: e.SOURCES_FILE ? readSources(e.SOURCES_FILE, variablesOf(e)) : undefined,
      /** RETENTION_POLICY_FILE: its path and rules (checked against RETENTION_DAYS at start); unset: the API edits the policy. */
      retentionPolicyFile: e.RETENTION_POLICY_FILE ? { path: e.RETENTION_POLICY_FILE, body: readRetentionPolicy(e.RETENTION_POLICY_FILE, e.RETENTION_DAYS) } : undefined,
      /**
       * Why secrets must be given rather than generated into DATA_DIR: on PostgreSQL several instances share
       * the data (each would generate its own), and in production the key must not sit beside the data.
       */
      secretsRequiredBy: /^postgres(ql)?:/.test(e.DATABASE_URL ?? '')
        ? ('PostgreSQL' as const)
        : e.NODE_ENV === 'production'
          ? ('NODE_ENV=production' as const)
          : undefined,
    };
  });

/**
 * The whole configuration. A capability with keys of its own keeps them in its `*-config.ts` in the
 * same form, `z.object({ KEY: … }).transform((e) => ({ capability: { … } }))`, joined here:
 * `coreConfig.and(transparencyConfig)`. Each reads its keys from the same environment; the
 * transforms' results are merged into one object.
 */
const configSchema = coreConfig.and(transparencyConfig);

/** The configuration, as the schemas' transforms shape it. */
export type Config = z.output<typeof configSchema> & {
  /**
   * Encryption at rest: where the key store is, how long a deadline period is (src/encryption/encryption-config.ts).
   * Read after the schema because its checks need DATA_DIR and the database's place.
   */
  encryption: EncryptionConfig;
};
export type S3Config = NonNullable<Config['s3']>;
export type OidcConfig = NonNullable<Config['oidc']>;
export type EdgeConfig = Config['edge'];
export type ControllerConfig = Config['controller'];

/** A configuration whose secrets are all present (after `resolveSecrets`). */
export type ResolvedConfig = Config & {
  webhookSecrets: string[];
  callerKeySecret: string;
  auditSigningKey: string;
};

export class ConfigError extends Error {}

/**
 * Secrets that may also be given as a file, `<NAME>_FILE` (as container secrets and systemd credentials
 * are mounted): the file's content, trailing newline dropped, stands for the variable.
 */
export const FILE_SECRETS = [
  'CALLER_KEY_SECRET', 'WEBHOOK_SECRETS', 'AUDIT_SIGNING_KEY', 'METRICS_TOKEN', 'OIDC_CLIENT_SECRET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY',
] as const;

/** The secrets that must be given (never generated) on PostgreSQL or with NODE_ENV=production. */
const REQUIRED_SECRETS = [
  ['CALLER_KEY_SECRET', 'callerKeySecret'],
  ['WEBHOOK_SECRETS', 'webhookSecrets'],
  ['AUDIT_SIGNING_KEY', 'auditSigningKey'],
] as const;

/** The environment with every `*_FILE` secret read in; the names of variables that came from a file. */
function readSecretFiles(env: Record<string, string>): { env: Record<string, string>; fromFile: Map<string, string> } {
  const out = { ...env };
  const fromFile = new Map<string, string>();
  const problems: string[] = [];
  for (const name of FILE_SECRETS) {
    const file = env[`${name}_FILE`];
    if (file === undefined) continue;
    delete out[`${name}_FILE`];
    if (env[name] !== undefined) {
      problems.push(`  ${name}: given as ${name} and as ${name}_FILE; set one, not both`);
      continue;
    }
    try {
      out[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
      fromFile.set(name, path.resolve(file));
    } catch (err) {
      problems.push(`  ${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (problems.length) throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  return { env: out, fromFile };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')) as Record<string, string>;
  const { env: blank, fromFile } = readSecretFiles(given);
  const parsed = configSchema.safeParse(blank);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const name = String(i.path[0] ?? '?');
      const shown = name in blank && !/SECRET|KEY|TOKEN/.test(name) ? ` (got "${blank[name]}")` : '';
      return `  ${fromFile.has(name) ? `${name}_FILE` : name}: ${i.message}${shown}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const config = parsed.data;
  const dataDir = config.dataDir;
  // Whatever is under DATA_DIR goes into its backups: a key there travels with the data it protects.
  const besideData = [...fromFile].filter(([, file]) => !path.relative(dataDir, file).startsWith('..') && !path.isAbsolute(path.relative(dataDir, file)));
  if (config.secretsRequiredBy && besideData.length) {
    throw new ConfigError(
      `Invalid configuration:\n${besideData.map(([name, file]) => `  ${name}_FILE: ${file} is inside DATA_DIR (${dataDir}), where every backup of the data would carry it; keep secrets outside DATA_DIR`).join('\n')}`,
    );
  }
  const encryption = parseEncryptionConfig(given, { dataDir, databaseUrl: config.databaseUrl });
  if (!encryption.config) throw new ConfigError(`Invalid configuration:\n${encryption.problems.map((p) => `  ${p}`).join('\n')}`);
  return Object.freeze({ ...config, encryption: encryption.config });
}

/** The variables as given (strings), for the sources file's `…Env` references: they name a source's own secrets. */
function variablesOf(e: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(e).filter((kv): kv is [string, string] => typeof kv[1] === 'string'));
}

function readRetentionPolicy(file: string, ceiling: number): { rules: unknown[] } {
  try {
    return readPolicyFile(file, ceiling);
  } catch (err) {
    if (err instanceof PolicyFileError) throw new ConfigError(`Invalid configuration:\n  RETENTION_POLICY_FILE: ${err.message}`);
    throw err;
  }
}

function readSources(file: string, env: Record<string, string | undefined>): SourceConfig[] {
  try {
    return loadSourcesFile(file, env);
  } catch (err) {
    if (err instanceof SourcesConfigError) throw new ConfigError(`Invalid configuration:\n  SOURCES_FILE: ${err.message}`);
    throw err;
  }
}

function readKeyList(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`Invalid configuration:\n  AUDIT_KEY_LIST: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/**
 * The configuration a process runs with: parsed, DATA_DIR created, missing secrets generated or read
 * back. Throws ConfigError naming the variable; the service and every CLI start here.
 */
export function loadResolvedConfig(env: NodeJS.ProcessEnv = process.env): Readonly<ResolvedConfig> {
  const base = loadConfig(env);
  mkdirSync(base.dataDir, { recursive: true });
  return resolveSecrets(base);
}

/**
 * Fills in secrets that were not configured from files in DATA_DIR/secrets, generating each once
 * (mode 0600). The caller-key secret in particular must never change silently: a new one would make
 * every opt-out registration unmatchable. On PostgreSQL or with NODE_ENV=production nothing is
 * generated: a missing secret is a ConfigError naming every missing variable in one line.
 */
export function resolveSecrets(config: Readonly<Config>): Readonly<ResolvedConfig> {
  if (config.secretsRequiredBy) {
    const missing = REQUIRED_SECRETS.filter(([, field]) => config[field] === undefined).map(([name]) => name);
    if (missing.length) {
      throw new ConfigError(
        `missing secrets ${missing.join(', ')}: with ${config.secretsRequiredBy} they must be given (each as the variable or as <NAME>_FILE), never generated; see docs/operations.md`,
      );
    }
  }
  const dir = path.join(config.dataDir, 'secrets');
  const fromFile = (name: string, make: () => string): string => {
    const file = path.join(dir, name);
    if (existsSync(file)) return readFileSync(file, 'utf8').trim();
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const value = make();
    writeFileSync(file, value + '\n', { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
    return value;
  };
  return Object.freeze({
    ...config,
    webhookSecrets:
      config.webhookSecrets ?? [fromFile('webhook-secret', () => `whsec_${randomBytes(32).toString('base64')}`)],
    callerKeySecret: config.callerKeySecret ?? fromFile('caller-key-secret', () => randomBytes(32).toString('hex')),
    auditSigningKey:
      config.auditSigningKey ??
      fromFile('audit-signing-key.pem', () =>
        generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().trim(),
      ),
  });
}
