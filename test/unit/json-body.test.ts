import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { Request } from 'express';
import { readJsonBody } from '../../src/http/json-body.js';
import { BadRequest, TooLarge } from '../../src/shared/errors.js';

/** A server whose every request's body is read with readJsonBody(limit); each outcome is handed to the test. */
async function serve(limit: number) {
  const outcomes: Array<Promise<unknown>> = [];
  const server = http.createServer((req, res) => {
    const outcome = readJsonBody(req as Request, limit);
    outcomes.push(outcome);
    outcome.then(
      () => res.end('ok'),
      () => res.end('refused'),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { port, outcomes, close: () => new Promise((r) => server.close(r)) };
}

/** Sends raw bytes and, unless told to wait for the answer, hangs up right after. */
function send(port: number, raw: string, hangUp: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(raw);
      if (hangUp) setImmediate(() => socket.destroy());
    });
    socket.on('data', () => socket.end());
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
}

describe('the small JSON body reader (the pre-call check)', () => {
  it('reads a JSON body', async () => {
    const s = await serve(1024);
    try {
      await send(s.port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 14\r\nConnection: close\r\n\r\n{"number":"1"}', false);
      expect(await s.outcomes[0]).to.deep.equal({ number: '1' });
    } finally {
      await s.close();
    }
  });

  it('refuses a body the client stopped sending halfway (it hung up) as incomplete', async () => {
    const s = await serve(1024);
    try {
      await send(s.port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{"number":', true);
      await new Promise((r) => setTimeout(r, 20)); // the server sees the hang-up on its next turn
      const err = await s.outcomes[0]!.then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(BadRequest);
      expect((err as BadRequest).code).to.equal('incomplete-body');
    } finally {
      await s.close();
    }
  });

  it('refuses a chunked body that grows past the limit without a declared length', async () => {
    const s = await serve(16);
    try {
      const chunk = '{"number":"' + 'x'.repeat(30) + '"}';
      await send(s.port, `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunk.length.toString(16)}\r\n${chunk}\r\n0\r\n\r\n`, false);
      const err = await s.outcomes[0]!.then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(TooLarge);
      expect((err as TooLarge).code).to.equal('body-too-large');
    } finally {
      await s.close();
    }
  });
});
