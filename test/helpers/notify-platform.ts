import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { cronForInterval, FORTY_SIX_ELKS_KEEP_REASON, type NotifySourceConfig } from '../../src/sources/index.js';
import { sourceSettings } from './sources.js';

export const ACCOUNT_SID = 'AC' + 'a1'.repeat(16);
export const AUTH_TOKEN = 'test-auth-token-0123456789abcdef';
export const PUBLIC_URL = 'https://gallra.kommun.example/v1/sources/twilio/notify';

/** A request the fake platform saw. */
export interface Seen {
  method: string;
  path: string;
  authorization: string | undefined;
}

/**
 * A local stand-in for Twilio's API (the Calls lookup, the recording audio, its deletion) and any
 * other media host: records every request, can be taken down and brought back on the same port.
 */
export async function startFakePlatform(opts: { audio: Buffer; caller?: string; port?: number; chunked?: boolean }) {
  const seen: Seen[] = [];
  const calls = new Map<string, { from: string; to: string; start_time: string; end_time: string; direction: string }>();
  const deleted = new Set<string>();
  let down = false;
  const handler = (req: IncomingMessage, res: import('node:http').ServerResponse) => {
    seen.push({ method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization });
    if (down) {
      res.writeHead(503).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    const call = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Calls\/(CA[0-9a-f]{32})\.json$/.exec(url.pathname);
    const recording = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Recordings\/(RE[0-9a-f]{32})(\.wav|\.mp3|\.json)?$/.exec(url.pathname);
    const basic = `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}`;
    if ((call || recording) && req.headers.authorization !== basic) {
      res.writeHead(401).end();
      return;
    }
    if (call && req.method === 'GET') {
      const c = calls.get(call[2]!);
      if (!c) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"status":404}');
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sid: call[2], ...c }));
    }
    if (recording && req.method === 'GET' && recording[3] === '.wav') {
      if (deleted.has(recording[2]!)) return void res.writeHead(404).end();
      if (opts.chunked) {
        // No Content-Length: the size is known only as the bytes come.
        res.writeHead(200, { 'content-type': 'audio/x-wav' });
        res.write(opts.audio.subarray(0, 512));
        return void res.end(opts.audio.subarray(512));
      }
      return void res.writeHead(200, { 'content-type': 'audio/x-wav', 'content-length': String(opts.audio.length) }).end(opts.audio);
    }
    if (recording && req.method === 'DELETE' && recording[3] === '.json') {
      deleted.add(recording[2]!);
      return void res.writeHead(204).end();
    }
    // 46elks-style: the recording by its call id.
    const elks = /^\/a1\/recordings\/([a-z0-9]+)\.wav$/.exec(url.pathname);
    if (elks && req.method === 'GET') {
      return void res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': String(opts.audio.length) }).end(opts.audio);
    }
    if (url.pathname.startsWith('/redirect-to/')) {
      return void res.writeHead(302, { location: decodeURIComponent(url.pathname.slice('/redirect-to/'.length)) }).end();
    }
    res.writeHead(404).end();
  };
  let server: Server = createServer(handler);
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const host = `127.0.0.1:${port}`;
  return {
    port,
    host,
    base: `http://${host}`,
    seen,
    deleted,
    /** Registers a call for the Calls lookup. */
    addCall(callSid: string, c: { from: string; to?: string; start: string; end: string; direction?: string }) {
      calls.set(callSid, { from: c.from, to: c.to ?? '+46101234500', start_time: new Date(c.start).toUTCString(), end_time: new Date(c.end).toUTCString(), direction: c.direction ?? 'inbound' });
    },
    recordingUrl(recordingSid: string) {
      return `http://${host}/2010-04-01/Accounts/${ACCOUNT_SID}/Recordings/${recordingSid}`;
    },
    /** Answers 503 to everything until `up()`. */
    setDown(v: boolean) {
      down = v;
    },
    /** Closes the listening socket (connections refused) and reopens it on the same port. */
    async stop() {
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
    },
    async restart() {
      server = createServer(handler);
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A 46elks source pointed at the fake platform. */
export function elksSource(name: string, platform: { host: string; base: string }, overrides: Partial<NotifySourceConfig> = {}): NotifySourceConfig {
  return {
    ...twilioSource(name, platform),
    platform: '46elks',
    publicUrl: `https://gallra.kommun.example/v1/sources/${name}/notify`,
    accountSid: undefined,
    authToken: undefined,
    basicUser: 'elks',
    basicPassword: 'elks-password-0123',
    deleteAtSource: false,
    keepReason: FORTY_SIX_ELKS_KEEP_REASON,
    ...overrides,
  } as NotifySourceConfig;
}

export type FakePlatform = Awaited<ReturnType<typeof startFakePlatform>>;

/** A Twilio source as SOURCES_FILE would give it after validation, pointed at the fake platform (a test host). */
export function twilioSource(name: string, platform: { host: string; base: string }, overrides: Partial<NotifySourceConfig> = {}): NotifySourceConfig {
  return {
    ...sourceSettings(name, { pollIntervalMs: 60_000, schedule: cronForInterval(60_000)!, settleMs: 0, leaseMs: 60_000, concurrency: 2 }),
    adapter: 'notify',
    platform: 'twilio',
    publicUrl: PUBLIC_URL,
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    apiBase: platform.base,
    allowedHosts: [platform.host],
    testHosts: [platform.host],
    mediaFormat: 'wav',
    fetchTimeoutMs: 5_000,
    retryAfterMs: 30_000,
    ...overrides,
  };
}

/** The recordingStatusCallback Twilio sends, as form fields. */
export function recordingCallback(f: { callSid: string; recordingSid: string; recordingUrl: string; status?: string }): Record<string, string> {
  return {
    AccountSid: ACCOUNT_SID,
    CallSid: f.callSid,
    RecordingSid: f.recordingSid,
    RecordingUrl: f.recordingUrl,
    RecordingStatus: f.status ?? 'completed',
    RecordingDuration: '3',
    RecordingChannels: '1',
    RecordingStartTime: 'Mon, 23 Nov 2026 09:15:00 +0000',
    RecordingSource: 'RecordVerb',
    RecordingTrack: 'both',
  };
}

/** Signed by the twilio library's own code, as Twilio signs: gallra is checked against Twilio's implementation. */
export function twilioSignature(params: Record<string, string>, opts: { url?: string; token?: string; algorithm?: 'HMAC_SHA1' | 'HMAC_SHA256' } = {}): string {
  return twilio.getExpectedTwilioSignature(opts.token ?? AUTH_TOKEN, opts.url ?? PUBLIC_URL, params, opts.algorithm);
}

/** A fresh SID of the given prefix. */
export function sid(prefix: 'CA' | 'RE', n: number): string {
  return prefix + n.toString(16).padStart(32, '0');
}
