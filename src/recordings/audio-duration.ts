import { parseBuffer, parseStream } from 'music-metadata';
import { errorFacts, type Logger } from '../shared/logger.js';
import type { ObjectStore } from '../storage/index.js';
import { wavDurationMs } from './audio-format.js';

/**
 * The parser is chosen by extension rather than by MIME type: music-metadata's MIME lookup goes through
 * a CommonJS helper that fails when the module graph is loaded through require (as mocha does), while
 * the extension lookup works everywhere.
 */
const EXTENSION: Record<string, string> = { 'audio/wav': '.wav', 'audio/mpeg': '.mp3', 'audio/ogg': '.ogg', 'audio/flac': '.flac' };

/**
 * The audio's length in milliseconds. WAV and FLAC say it in their first bytes (`head`, already read
 * to sniff the format): WAV by our own header arithmetic, FLAC's STREAMINFO by music-metadata. MP3 and
 * Ogg need more (frames, the last page), so for them it is read from the stored object right after
 * `put`. Reading it back (rather than teeing the upload) keeps the upload path untouched: a slow
 * parser can never stall or buffer the incoming request. With the size given, music-metadata reads
 * only headers (WAV, FLAC, Ogg) or estimates from the bitrate (MP3), and the stream is dropped as soon
 * as it answers. Null when the audio does not say; a missing duration never refuses a recording.
 */
/** No telephone codec carries speech in fewer bits a second (Opus's floor); a longer duration than this allows is not believed. */
const MIN_BITS_PER_SECOND = 6_000;

/** The longest audio `bytes` can hold. */
export function maxDurationMsFor(bytes: number): number {
  return Math.ceil((bytes * 8 * 1000) / MIN_BITS_PER_SECOND);
}

/**
 * The audio's length, or null when the audio does not say or says more than its bytes can hold (a
 * header that lies); bounded by the bytes actually received, never by what a header claims.
 */
export async function audioDurationMs(
  store: ObjectStore,
  key: string,
  meta: { contentType: string; bytes: number; head: Buffer },
  logger: Logger,
): Promise<number | null> {
  const ms = await claimedDurationMs(store, key, meta, logger);
  if (ms === null || ms <= maxDurationMsFor(meta.bytes)) return ms;
  logger.warn('a recording claims a longer duration than its bytes can hold; keeping none', { storageKey: key, bytes: meta.bytes });
  return null;
}

async function claimedDurationMs(
  store: ObjectStore,
  key: string,
  meta: { contentType: string; bytes: number; head: Buffer },
  logger: Logger,
): Promise<number | null> {
  if (meta.contentType === 'audio/wav') return wavDurationMs(meta.head, meta.bytes) ?? null;
  if (meta.contentType === 'audio/flac') {
    try {
      const seconds = (await parseBuffer(meta.head, { path: 'audio.flac', size: meta.bytes }, { skipCovers: true })).format.duration;
      if (seconds !== undefined && Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
    } catch {
      // A header music-metadata cannot read from the first bytes: read the stored object as for other formats.
    }
  }
  let body: NodeJS.ReadableStream & { destroy(): void } | undefined;
  try {
    const obj = await store.get(key);
    body = obj.body;
    const md = await parseStream(obj.body, { path: `audio${EXTENSION[meta.contentType] ?? ''}`, size: meta.bytes }, { skipCovers: true });
    const seconds = md.format.duration;
    return seconds !== undefined && Number.isFinite(seconds) && seconds >= 0 ? Math.round(seconds * 1000) : null;
  } catch (err) {
    logger.warn('could not read the duration of a recording', { storageKey: key, err: errorFacts(err) });
    return null;
  } finally {
    body?.destroy();
  }
}
