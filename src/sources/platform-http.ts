import type { LookupFunction } from 'node:net';
import http from 'node:http';
import https from 'node:https';
import { PassThrough, type Readable } from 'node:stream';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';
import { TooLarge } from '../shared/errors.js';
import { SourceUnreachable } from './ports.js';

/**
 * A URL gallra will not request: a host the source's config does not allow, plain http, a redirect to
 * another host, or a name that resolves to a private, loopback or link-local address. Permanent: the
 * item is rejected, never retried.
 */
export class FetchRefused extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
  }
}

/** Which hosts a source may fetch from. Host names are lower-case host[:port]. */
export interface HostPolicy {
  allowedHosts: string[];
  /** May be plain http and resolve to loopback or private addresses: tests only. */
  testHosts: string[];
}

export interface PlatformResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body, cut off with an error past `maxBytes` or the deadline. */
  body: Readable;
}

export interface PlatformRequest {
  method: 'GET' | 'DELETE';
  /** HTTP Basic credentials, sent to allowed hosts only. */
  auth?: { user: string; password: string };
  maxBytes: number;
  timeoutMs: number;
}

/** Outbound HTTP to a platform (lookups, audio, deletions) under a source's host policy. */
export interface PlatformHttp {
  request(url: string, req: PlatformRequest): Promise<PlatformResponse>;
}

const MAX_REDIRECTS = 3;

/**
 * Checks the URL against the policy before anything is sent. The resolved address is checked at
 * connect time by request-filtering-agent (its `lookup` hook), so a name that resolves to 127.0.0.1 or
 * 169.254.169.254 is refused even when the name itself is allowed (DNS rebinding included: the address
 * checked is the one connected to).
 */
export function checkUrl(raw: string, policy: HostPolicy): { url: URL; test: boolean } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new FetchRefused('invalid-url', 'the notified URL is not a URL');
  }
  if (url.username || url.password) throw new FetchRefused('credentials-in-url', 'the notified URL carries credentials');
  const host = url.host.toLowerCase();
  if (policy.testHosts.includes(host) && (url.protocol === 'http:' || url.protocol === 'https:')) return { url, test: true };
  if (!policy.allowedHosts.includes(host)) throw new FetchRefused('host-not-allowed', `the host ${url.hostname} is not allowed for this source`);
  if (url.protocol !== 'https:') throw new FetchRefused('not-https', 'only https is allowed');
  return { url, test: false };
}

/**
 * node:http(s) with request-filtering-agent: no private/loopback/link-local/meta address for allowed
 * hosts; test hosts go through a plain agent. A redirect is followed only to a host the policy allows
 * (Twilio may send the audio from its media CDN), re-checked like the first URL, and the credentials
 * go only to the host first asked.
 * `lookup` replaces DNS (tests resolve a name to 127.0.0.1 with it).
 */
export function createPlatformHttp(policy: HostPolicy, opts: { lookup?: LookupFunction } = {}): PlatformHttp {
  const filtering = { https: new RequestFilteringHttpsAgent({ keepAlive: false }), http: new RequestFilteringHttpAgent({ keepAlive: false }) };
  const plain = { https: new https.Agent({ keepAlive: false }), http: new http.Agent({ keepAlive: false }) };

  async function once(url: URL, test: boolean, req: PlatformRequest, deadline: AbortSignal, withAuth: boolean): Promise<http.IncomingMessage> {
    const agents = test ? plain : filtering;
    const mod = url.protocol === 'https:' ? https : http;
    const headers: Record<string, string> = { 'user-agent': 'gallra' };
    if (req.auth && withAuth) headers.authorization = `Basic ${Buffer.from(`${req.auth.user}:${req.auth.password}`).toString('base64')}`;
    return new Promise((resolve, reject) => {
      const r = mod.request(url, {
        method: req.method,
        headers,
        agent: url.protocol === 'https:' ? agents.https : agents.http,
        signal: deadline,
        ...(opts.lookup ? { lookup: opts.lookup } : {}),
      });
      r.on('response', resolve);
      r.on('error', (err) => reject(classify(err)));
      r.end();
    });
  }

  return {
    async request(raw, req) {
      const deadline = AbortSignal.timeout(req.timeoutMs);
      let { url, test } = checkUrl(raw, policy);
      const firstHost = url.host.toLowerCase();
      for (let hops = 0; ; hops++) {
        const res = await once(url, test, req, deadline, url.host.toLowerCase() === firstHost);
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location) {
          res.resume();
          if (hops >= MAX_REDIRECTS) throw new FetchRefused('too-many-redirects', 'too many redirects');
          const next = new URL(res.headers.location, url);
          try {
            ({ url, test } = checkUrl(next.toString(), policy));
          } catch (err) {
            if (!(err instanceof FetchRefused)) throw err;
            throw new FetchRefused('redirect-off-host', `a redirect to a host not allowed (${next.hostname}) is not followed`);
          }
          continue;
        }
        const length = Number(res.headers['content-length']);
        if (Number.isFinite(length) && length > req.maxBytes) {
          res.destroy();
          throw new FetchRefused('too-large', `the answer is larger than ${req.maxBytes} bytes`);
        }
        return { status, headers: res.headers, body: capped(res, req.maxBytes) };
      }
    },
  };
}

/** The body, failing with FetchRefused('too-large') once more than `max` bytes have come. */
function capped(res: http.IncomingMessage, max: number): Readable {
  let n = 0;
  let failed = false;
  const out = new PassThrough();
  // The consumer may attach only later (the ingest looks the call up first): the error stays in
  // out.errored for its iterator instead of being thrown as an unhandled 'error' event.
  out.on('error', () => undefined);
  const fail = (err: Error) => {
    if (failed) return;
    failed = true;
    out.destroy(err);
    res.destroy();
  };
  res.on('data', (chunk: Buffer) => {
    if (failed) return;
    n += chunk.length;
    // A domain error: the ingest passes it on, and the item is rejected rather than retried.
    if (n > max) return fail(new TooLarge('recording-too-large', `the answer is larger than ${max} bytes`));
    if (!out.write(chunk)) res.pause();
  });
  out.on('drain', () => res.resume());
  res.on('end', () => {
    if (!failed) out.end();
  });
  res.on('error', (err) => fail(classify(err)));
  res.on('close', () => {
    if (!res.complete) fail(new SourceUnreachable('media-cut-off', 'the answer was cut off'));
  });
  return out;
}

function classify(err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  if (/is not allowed\. Because/.test(e.message ?? '')) return new FetchRefused('address-not-allowed', 'the host resolves to a private, loopback or link-local address');
  if (e.name === 'AbortError' || e.name === 'TimeoutError' || e.code === 'ABORT_ERR') return new SourceUnreachable('media-timeout', 'the platform did not answer in time');
  return new SourceUnreachable('media-unreachable', `the platform could not be reached (${e.code ?? 'error'})`);
}
