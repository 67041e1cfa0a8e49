import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { parseBuffer } from 'music-metadata';
import { SNIFF_BYTES, wavDurationMs } from '../../src/recordings/audio-format.js';

const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, '..', 'fixtures', name));

describe('WAV duration from the header', () => {
  for (const name of ['call-pcm16-8k.wav', 'call-alaw-8k.wav', 'call-ulaw-8k.wav', 'call-stereo-8k.wav']) {
    it(`agrees with music-metadata reading all of ${name}, from the first ${SNIFF_BYTES} bytes only`, async () => {
      const wav = fixture(name);
      const full = (await parseBuffer(wav, { path: 'a.wav', size: wav.length })).format.duration!;
      expect(wavDurationMs(wav.subarray(0, SNIFF_BYTES), wav.length)).to.equal(Math.round(full * 1000));
    });
  }

  it('uses the bytes that arrived when the data size is a streaming placeholder', () => {
    const wav = Buffer.from(fixture('call-pcm16-8k.wav'));
    const dataAt = wav.indexOf('data', 12, 'latin1');
    wav.writeUInt32LE(0xffffffff, dataAt + 4);
    const pcmBytes = wav.length - (dataAt + 8);
    expect(wavDurationMs(wav.subarray(0, SNIFF_BYTES), wav.length)).to.equal(Math.round((pcmBytes / 16_000) * 1000)); // 8 kHz × 16 bit mono
  });

  it('says nothing when the head holds no data chunk', () => {
    const wav = fixture('call-pcm16-8k.wav');
    expect(wavDurationMs(wav.subarray(0, 30), wav.length)).to.equal(undefined);
  });
});
