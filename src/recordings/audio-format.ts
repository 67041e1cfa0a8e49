import { fileTypeFromBuffer } from 'file-type';

/** How many leading bytes the sniffer needs (file-type's own minimum). */
export const SNIFF_BYTES = 4100;

export interface AudioFormat {
  contentType: string;
  /** e.g. "pcm", "alaw", "mulaw", "mp3", "opus", "flac". */
  codec: string;
}

const WAV_CODECS: Record<number, string> = { 1: 'pcm', 6: 'alaw', 7: 'mulaw' };

/**
 * What phone systems export and browsers can play: WAV (PCM, A-law, µ-law), MP3, Ogg/Opus, FLAC.
 * Judged from the bytes, never from the client's Content-Type or file name.
 */
export async function detectAudioFormat(head: Buffer): Promise<AudioFormat | undefined> {
  const type = await fileTypeFromBuffer(head);
  switch (type?.mime) {
    case 'audio/mpeg':
      return { contentType: 'audio/mpeg', codec: 'mp3' };
    case 'audio/flac':
    case 'audio/x-flac':
      return { contentType: 'audio/flac', codec: 'flac' };
    case 'audio/ogg; codecs=opus':
    case 'audio/opus':
      return { contentType: 'audio/ogg', codec: 'opus' };
    case 'audio/wav':
    case 'audio/vnd.wave':
    case 'audio/x-wav': {
      const codec = wavCodec(head);
      return codec ? { contentType: 'audio/wav', codec } : undefined;
    }
    default:
      return undefined;
  }
}

/** Reads the format tag of the WAV "fmt " chunk (WAVE_FORMAT_EXTENSIBLE: the sub-format's tag). */
function wavCodec(buf: Buffer): string | undefined {
  let off = 12;
  while (off + 8 <= buf.length) {
    const id = buf.toString('latin1', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    if (id === 'fmt ') {
      if (off + 10 > buf.length) return undefined;
      let tag = buf.readUInt16LE(off + 8);
      if (tag === 0xfffe && off + 8 + 26 <= buf.length) tag = buf.readUInt16LE(off + 8 + 24);
      return WAV_CODECS[tag];
    }
    off += 8 + size + (size % 2);
  }
  return undefined;
}

/**
 * A WAV recording's length from its header alone: the "data" chunk's size over the "fmt " chunk's
 * average bytes per second. A data size that is missing, zero or larger than what arrived (recorders
 * that stream write a placeholder) is replaced by the bytes that follow the chunk header. Undefined
 * when the header does not say (no fmt or data chunk in `head`).
 */
export function wavDurationMs(head: Buffer, totalBytes: number): number | undefined {
  let off = 12;
  let byteRate: number | undefined;
  while (off + 8 <= head.length) {
    const id = head.toString('latin1', off, off + 4);
    const size = head.readUInt32LE(off + 4);
    if (id === 'fmt ' && off + 22 <= head.length) {
      // fmt: tag, channels, sample rate, bytes per second, block align. A byte rate that does not follow
      // from the rest is a lying header: no duration rather than a made-up one.
      const sampleRate = head.readUInt32LE(off + 12);
      const stated = head.readUInt32LE(off + 16);
      const blockAlign = head.readUInt16LE(off + 20);
      byteRate = stated === sampleRate * blockAlign ? stated : undefined;
      if (!byteRate) return undefined;
    }
    if (id === 'data') {
      if (!byteRate) return undefined;
      const arrived = totalBytes - (off + 8);
      const dataBytes = size > 0 && size <= arrived ? size : arrived;
      return Math.round((dataBytes / byteRate) * 1000);
    }
    off += 8 + size + (size % 2);
  }
  return undefined;
}
