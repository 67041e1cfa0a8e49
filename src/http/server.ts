import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { RequestListener } from 'node:http';
import type { EdgeConfig } from '../config.js';
import { TimedOut } from '../shared/errors.js';
import { toProblem } from './problem.js';

/** Requests that may take the upload's longer total limit. */
export type IsUpload = (req: IncomingMessage) => boolean;

export const isWebhookUpload: IsUpload = (req) => req.method === 'POST' && (req.url === '/v1/recordings' || req.url?.startsWith('/v1/recordings?') === true);

/**
 * The HTTP server with limits for every request: headers within HEADERS_TIMEOUT; a body never silent
 * for longer than BODY_IDLE_TIMEOUT; a whole request within REQUEST_TIMEOUT, or UPLOAD_TIMEOUT for the
 * webhook upload (Node's own requestTimeout holds the longer one; the shorter one is a timer per
 * request with a body). A request over a limit is answered 408 and its connection closed.
 */
export function createHttpServer(app: RequestListener, edge: EdgeConfig, isUpload: IsUpload = isWebhookUpload): http.Server {
  const server = http.createServer(
    {
      headersTimeout: edge.headersTimeoutMs,
      requestTimeout: Math.max(edge.uploadTimeoutMs, edge.requestTimeoutMs, edge.headersTimeoutMs),
      // How often Node looks for connections over headersTimeout/requestTimeout (its default is 30 s).
      connectionsCheckingInterval: Math.max(250, Math.min(1_000, edge.headersTimeoutMs / 2)),
    },
    app,
  );
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => guardBody(req, res, edge, isUpload(req)));
  return server;
}

function guardBody(req: IncomingMessage, res: ServerResponse, edge: EdgeConfig, upload: boolean): void {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length']) > 0;
  if (!hasBody) return;
  const refuse = (detail: string) => {
    cleanUp();
    const socket = req.socket;
    // The request is destroyed too: once its answer has finished, Node no longer ends a request whose
    // socket closes, and whoever reads its body would wait forever.
    const drop = () => {
      req.destroy(new TimedOut('request-timeout', detail));
      socket.destroy();
    };
    if (res.headersSent) {
      drop();
      return;
    }
    const problem = toProblem(new TimedOut('request-timeout', detail), (req as IncomingMessage & { requestId?: string }).requestId);
    const body = JSON.stringify(problem);
    res.once('finish', drop);
    res.writeHead(408, { 'Content-Type': 'application/problem+json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', Connection: 'close' }).end(body);
  };
  const total = upload ? undefined : setTimeout(() => refuse(`The request was not received within ${edge.requestTimeoutMs / 1000} s`), edge.requestTimeoutMs);
  req.setTimeout(edge.bodyIdleTimeoutMs, () => refuse(`Nothing of the request body arrived for ${edge.bodyIdleTimeoutMs / 1000} s`));
  const cleanUp = () => {
    clearTimeout(total);
    req.off('end', cleanUp);
    req.off('close', cleanUp);
    if (!req.socket.destroyed) req.socket.setTimeout(0);
  };
  req.once('end', cleanUp);
  req.once('close', cleanUp);
}

/**
 * Stops accepting connections and lets in-flight requests finish; after `timeoutMs` closes whatever is
 * left. Resolves once every connection is gone: 'drained' or 'forced'.
 */
export function stopServer(server: http.Server, timeoutMs: number): Promise<'drained' | 'forced'> {
  return new Promise((resolve) => {
    let forced = false;
    // A connection that finishes its request becomes idle; close those as they appear.
    const idle = setInterval(() => server.closeIdleConnections(), 250);
    const deadline = setTimeout(() => {
      forced = true;
      server.closeAllConnections();
    }, timeoutMs);
    server.close(() => {
      clearInterval(idle);
      clearTimeout(deadline);
      resolve(forced ? 'forced' : 'drained');
    });
    server.closeIdleConnections();
  });
}
