import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { securityHeaders } from '../../src/http/security-headers.js';
import { WEB_CSP } from '../../src/web/index.js';

describe('security headers read off helmet once (for the answer written in one call)', () => {
  it('lists exactly the headers, with the values, that the middleware sets on an answer', async () => {
    const security = securityHeaders({ contentSecurityPolicy: WEB_CSP });
    const app = express();
    app.disable('x-powered-by');
    app.use(security.middleware);
    app.get('/', (_req, res) => {
      res.end();
    });
    const res = await request(app).get('/');
    const listed = new Map<string, string>();
    for (let i = 0; i < security.list.length; i += 2) listed.set(security.list[i]!.toLowerCase(), security.list[i + 1]!);
    expect(listed.size).to.be.greaterThan(10);
    for (const [name, value] of listed) expect(res.headers[name], name).to.equal(value);
    const standard = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);
    expect(Object.keys(res.headers).filter((h) => !standard.has(h))).to.have.members([...listed.keys()]);
    expect(Object.isFrozen(security.list)).to.equal(true);
  });

  it('refuses options whose values depend on the request, which a list made once cannot hold', () => {
    const nonce = (req: unknown) => `'nonce-${String((req as { id?: string }).id)}'`;
    expect(() => securityHeaders({ contentSecurityPolicy: { directives: { scriptSrc: ["'self'", nonce] } } })).to.throw('must not depend on the request');
    let n = 0;
    const counter = () => `'nonce-${n++}'`;
    expect(() => securityHeaders({ contentSecurityPolicy: { directives: { scriptSrc: ["'self'", counter] } } })).to.throw('must not depend on the request');
  });
});
