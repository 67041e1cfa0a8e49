import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Unauthenticated } from '../shared/errors.js';
import type { NotifySourceConfig } from './source-config.js';

/** A notification's body as the platform sent it: form fields (all of them, for the signature) or the raw JSON. */
export interface NotifyBody {
  contentType: string;
  raw: Buffer;
  form: Record<string, string[]> | null;
  /** The query string of the request as received, without '?' ('' for none): Twilio signs the URL it called, bodySHA256 included. */
  query: string;
}

/** Parses an application/x-www-form-urlencoded body into every value of every field, in order. */
export function formFields(raw: Buffer): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of new URLSearchParams(raw.toString('utf8'))) (out[k] ??= []).push(v);
  return out;
}

/**
 * Authenticates a notification by its platform's own scheme, before anything is written. Throws
 * Unauthenticated (401) naming what is missing or wrong; never says which part of a secret differed.
 */
export function authenticateNotification(config: NotifySourceConfig, headers: IncomingHttpHeaders, body: NotifyBody): void {
  if (config.platform === 'twilio') return twilio(config, headers, body);
  return basic(config, headers);
}

/**
 * Twilio's X-Twilio-Signature: HMAC (SHA-1, or SHA-256 when X-Twilio-Webhooks-Signature-Settings names
 * HMAC_SHA256) of the URL Twilio called (the configured public URL, not the one gallra sees behind a
 * proxy) followed by the form fields sorted by name, each name then its values; for a JSON body the URL
 * carries bodySHA256, the hex SHA-256 of the body, and only the URL is signed. As Twilio's own
 * validateRequest does, the URL is tried with and without the default port.
 */
function twilio(config: NotifySourceConfig, headers: IncomingHttpHeaders, body: NotifyBody): void {
  const signature = one(headers['x-twilio-signature']);
  if (!signature) throw new Unauthenticated('missing-signature', 'Missing header X-Twilio-Signature');
  const algorithm = algorithmOf(one(headers['x-twilio-webhooks-signature-settings']));
  if (!algorithm) throw new Unauthenticated('invalid-signature', 'X-Twilio-Webhooks-Signature-Settings names an algorithm other than HMAC_SHA1 or HMAC_SHA256');
  const key = config.signingKey ?? config.authToken!;
  // The configured public scheme, host and path (gallra behind a proxy sees others), the query as received.
  const base = config.publicUrl.replace(/[?#].*$/, '');
  const signedUrl = body.query ? `${base}?${body.query}` : config.publicUrl;
  const url = new URL(signedUrl);
  let data = '';
  if (body.form) {
    for (const name of Object.keys(body.form).sort()) for (const v of [...new Set(body.form[name])].sort()) data += name + v;
  } else {
    const expected = createHash('sha256').update(body.raw).digest('hex');
    const given = url.searchParams.get('bodySHA256');
    if (!given || !safeEqual(Buffer.from(given), Buffer.from(expected))) throw new Unauthenticated('invalid-signature', 'X-Twilio-Signature does not match the request');
  }
  const offered = Buffer.from(signature);
  const ok = urlVariants(signedUrl).some((u) => safeEqual(offered, Buffer.from(createHmac(algorithm, key).update(u + data, 'utf8').digest('base64'))));
  if (!ok) throw new Unauthenticated('invalid-signature', 'X-Twilio-Signature does not match the request');
}

function algorithmOf(settings: string | undefined): 'sha1' | 'sha256' | null {
  for (const part of (settings ?? '').split(',')) {
    const [k, v] = part.split('=').map((x) => x?.trim());
    if (k === 'algorithm' && v) return v.toUpperCase() === 'HMAC_SHA256' ? 'sha256' : v.toUpperCase() === 'HMAC_SHA1' ? 'sha1' : null;
  }
  return 'sha1';
}

/** The URL as configured, and with the scheme's default port added or removed. */
function urlVariants(raw: string): string[] {
  const u = new URL(raw);
  const port = u.protocol === 'https:' ? '443' : '80';
  const withPort = raw.replace(/^(https?:\/\/[^/:?#]+)(?=[/?#]|$)/i, `$1:${port}`);
  const withoutPort = raw.replace(new RegExp(`^(https?://[^/:?#]+):${port}(?=[/?#]|$)`, 'i'), '$1');
  return [...new Set([raw, withPort, withoutPort])];
}

/** HTTP Basic with the source's user and password (46elks sends the credentials of the callback URL's user part this way). */
function basic(config: NotifySourceConfig, headers: IncomingHttpHeaders): void {
  const auth = one(headers.authorization);
  if (!auth || !/^Basic /i.test(auth)) throw new Unauthenticated('authentication-required', 'HTTP Basic credentials are required');
  const given = Buffer.from(auth.slice(6).trim(), 'base64');
  const expected = Buffer.from(`${config.basicUser}:${config.basicPassword}`);
  if (!safeEqual(given, expected)) throw new Unauthenticated('invalid-credentials', 'The HTTP Basic credentials are wrong');
}

function safeEqual(a: Buffer, b: Buffer): boolean {
  // Digests of both: equal length, so the comparison is constant-time whatever was sent.
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db) && a.length === b.length;
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
