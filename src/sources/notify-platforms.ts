import type { LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import { createPlatformHttp, FetchRefused, type PlatformHttp } from './platform-http.js';
import { SourceUnreachable } from './ports.js';
import type { NotifySourceConfig } from './source-config.js';

/** What a platform's Calls API says of a call (Twilio): the caller's number lives in memory only. */
export interface CallLookup {
  /** The external party's number as the platform gives it, or null (withheld, anonymous). */
  caller: string | null;
  startedAt: Date;
  endedAt: Date;
}

/** A notify source's platform, as the notify use case needs it. Errors: FetchRefused (permanent) or SourceUnreachable (retried). */
export interface NotifyPlatformClient {
  /** The call's parties and times, for platforms whose notification lacks them (Twilio); null where the notification has them. */
  lookupCall(callId: string): Promise<CallLookup | null>;
  /** The audio at the notified URL, under the source's host policy, size cap and deadline. */
  openAudio(mediaUrl: string): Promise<Readable>;
  /** Deletes the platform's copy; a copy already gone counts as deleted. Nothing to do for platforms without deletion. */
  deleteRecording(recordingId: string): Promise<void>;
}

const LOOKUP_MAX_BYTES = 256 * 1024;

/** The client of a notify source's platform; `lookup` replaces DNS (tests). */
export function createNotifyPlatform(config: NotifySourceConfig, opts: { lookup?: LookupFunction } = {}): NotifyPlatformClient {
  const http = createPlatformHttp({ allowedHosts: config.allowedHosts, testHosts: config.testHosts }, opts);
  return config.platform === 'twilio' ? twilio(config, http) : fortySixElks(config, http);
}

function twilio(config: NotifySourceConfig, http: PlatformHttp): NotifyPlatformClient {
  const auth = { user: config.accountSid!, password: config.authToken! };
  const account = `${config.apiBase}/2010-04-01/Accounts/${config.accountSid}`;
  const limits = { timeoutMs: config.fetchTimeoutMs };
  return {
    async lookupCall(callSid) {
      const res = await http.request(`${account}/Calls/${callSid}.json`, { method: 'GET', auth, maxBytes: LOOKUP_MAX_BYTES, ...limits });
      const text = await readAll(res.body);
      if (res.status === 404) throw new FetchRefused('call-not-found', 'the platform does not know the call');
      if (res.status !== 200) throw unreachable(res.status, 'lookup');
      let call: Record<string, unknown>;
      try {
        call = JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw new SourceUnreachable('lookup-invalid', 'the call lookup did not answer JSON');
      }
      const start = Date.parse(String(call.start_time ?? ''));
      const end = Date.parse(String(call.end_time ?? ''));
      if (Number.isNaN(start)) throw new FetchRefused('invalid-metadata', 'the call lookup has no start time');
      // The external party: the caller of an inbound call, the called number of an outbound one.
      const outbound = String(call.direction ?? 'inbound').startsWith('outbound');
      const party = outbound ? call.to : call.from;
      return { caller: typeof party === 'string' && party.trim() ? party : null, startedAt: new Date(start), endedAt: new Date(Number.isNaN(end) ? start : end) };
    },
    async openAudio(mediaUrl) {
      // A RecordingUrl has no extension; the extension picks the format Twilio serves.
      const url = /\.(wav|mp3)$/i.test(new URL(mediaUrl).pathname) ? mediaUrl : withExtension(mediaUrl, config.mediaFormat);
      return audioOf(http, url, auth, config);
    },
    async deleteRecording(recordingSid) {
      const res = await http.request(`${account}/Recordings/${recordingSid}.json`, { method: 'DELETE', auth, maxBytes: LOOKUP_MAX_BYTES, ...limits });
      res.body.resume();
      if (res.status === 204 || res.status === 200 || res.status === 404) return;
      throw unreachable(res.status, 'deletion');
    },
  };
}

function fortySixElks(config: NotifySourceConfig, http: PlatformHttp): NotifyPlatformClient {
  const auth = config.apiUser && config.apiPassword ? { user: config.apiUser, password: config.apiPassword } : undefined;
  return {
    lookupCall: async () => null,
    openAudio: (mediaUrl) => audioOf(http, mediaUrl, auth, config),
    // 46elks offers no deletion: its copy lapses after the 72-hour fetch window.
    deleteRecording: async () => undefined,
  };
}

async function audioOf(http: PlatformHttp, url: string, auth: { user: string; password: string } | undefined, config: NotifySourceConfig): Promise<Readable> {
  const res = await http.request(url, { method: 'GET', ...(auth ? { auth } : {}), maxBytes: config.maxFileBytes, timeoutMs: config.fetchTimeoutMs });
  if (res.status === 200) return res.body;
  res.body.resume();
  // Not there (yet), or the platform failing: retried. Refused outright: rejected.
  if (res.status === 404 || res.status === 408 || res.status === 429 || res.status >= 500) throw unreachable(res.status, 'audio');
  throw new FetchRefused('media-refused', `the platform answered ${res.status} for the audio`);
}

function withExtension(raw: string, ext: string): string {
  const u = new URL(raw);
  u.pathname += `.${ext}`;
  return u.toString();
}

function unreachable(status: number, what: string): SourceUnreachable {
  return new SourceUnreachable('media-unreachable', `the platform answered ${status} for the ${what}`);
}

async function readAll(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
