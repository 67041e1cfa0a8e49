/**
 * Posts a recording to gallra the way a phone system should: multipart (metadata, then audio), signed
 * as Standard Webhooks over the raw bytes. The file is streamed twice (once to sign, once to send), so
 * any size works without holding it in memory. `npm run send-recording -- --help` lists the options.
 */
import '../src/shared/require-supported-node.js'; // first: refuse an unsupported Node.js before loading anything
import { createHmac, randomUUID } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { loadResolvedConfig } from '../src/config.js';
import { cliArgs, parseSendRecordingArgs, SEND_RECORDING_HELP } from './cli-args.js';
import { fail } from './cli-context.js';

const args = cliArgs('send-recording', SEND_RECORDING_HELP, parseSendRecordingArgs);
const file = args.file;
let size: number;
try {
  size = statSync(file).size;
} catch {
  fail(`send-recording: cannot read ${file}`);
}

const config = loadResolvedConfig();
const secret = args.secret ?? config.webhookSecrets[0]!;
const url = new URL('/v1/recordings', args.url ?? `http://localhost:${config.port}`);
const startedAt = args.startedAt ?? new Date(Date.now() - args.durationS * 1000);
const metadata = {
  callId: args.callId ?? `demo-${randomUUID()}`,
  startedAt: startedAt.toISOString(),
  endedAt: new Date(startedAt.getTime() + args.durationS * 1000).toISOString(),
  caller: args.caller,
  queue: args.queue,
  agentId: args.agentId,
  optOut: args.optOut,
};

const boundary = `----gallra${randomUUID().replace(/-/g, '')}`;
const head = Buffer.from(
  `--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(metadata)}\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="audio"; filename="recording"\r\nContent-Type: application/octet-stream\r\n\r\n`,
);
const tail = Buffer.from(`\r\n--${boundary}--\r\n`);

const id = `msg_${randomUUID()}`;
const timestamp = Math.floor(Date.now() / 1000);
const mac = createHmac('sha256', Buffer.from(secret.replace(/^whsec_/, ''), 'base64')).update(`${id}.${timestamp}.`).update(head);
for await (const chunk of createReadStream(file)) mac.update(chunk as Buffer);
mac.update(tail);

const req = (url.protocol === 'https:' ? https : http).request(url, {
  method: 'POST',
  headers: {
    'content-type': `multipart/form-data; boundary=${boundary}`,
    'content-length': String(head.length + size! + tail.length),
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': `v1,${mac.digest('base64')}`,
  },
});
const response = new Promise<http.IncomingMessage>((resolve, reject) => {
  req.on('response', resolve);
  req.on('error', reject);
});
req.write(head);
for await (const chunk of createReadStream(file)) {
  if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
}
req.end(tail);
try {
  const res = await response;
  let text = '';
  for await (const c of res) text += c;
  process.stdout.write(`${res.statusCode} ${text}\n`);
  process.exit(res.statusCode! >= 200 && res.statusCode! < 300 ? 0 : 1);
} catch (err) {
  fail(`could not reach ${url.origin}: ${(err as Error).message}`, 1);
}
