import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { PassThrough } from 'node:stream';
import { problemHandler, toProblem } from '../../src/http/problem.js';
import { InvalidInput, NotFound, Unavailable } from '../../src/shared/errors.js';
import { createLogger } from '../../src/shared/logger.js';

/** The real shapes the drivers reject with (sqlite3, pg, Node's net and fs, knex's pool). */
function sqliteError(code: string, text: string, errno: number): Error {
  return Object.assign(new Error(`${code}: ${text}`), { errno, code });
}
function pgError(code: string, message: string): Error {
  return Object.assign(new Error(message), { name: 'error', code, severity: 'FATAL' });
}
function systemError(code: string, syscall: string): Error {
  return Object.assign(new Error(`${syscall} ${code}`), { errno: -1, code, syscall });
}

describe('problem mapping (toProblem)', () => {
  it('keeps type, title, status, detail and request id whatever the details carry', () => {
    const err = new Unavailable('storage-unavailable', 'The store is down', { status: undefined, type: 'x', title: 'y', detail: 'z', instance: '/evil', request_id: 'forged', operation: 'PutObject' });
    const p = toProblem(err, 'req-1');
    expect(p.status).to.equal(503);
    expect(p.type).to.equal('https://gallra.example/problems/storage-unavailable');
    expect(p.title).to.equal('Service unavailable');
    expect(p.detail).to.equal('The store is down');
    expect(p.request_id).to.equal('req-1');
    expect(p.instance).to.equal(undefined);
    expect(p.operation).to.equal('PutObject');
  });

  it('never throws, even on details whose properties throw when read or errors that are not objects', () => {
    const hostile = new NotFound('not-found', 'gone');
    Object.defineProperty(hostile.details, 'boom', { enumerable: true, get: () => { throw new Error('getter'); } });
    expect(toProblem(hostile).status).to.equal(404);
    for (const odd of [undefined, null, 42, 'text', Symbol('s'), Object.create(null), new Proxy({}, { get: () => { throw new Error('proxy'); } })]) {
      expect(toProblem(odd).status, String(typeof odd)).to.equal(500);
    }
  });

  it('keeps field errors of invalid input', () => {
    const p = toProblem(new InvalidInput('invalid-metadata', 'bad', { errors: [{ pointer: '/a', code: 'too-long', detail: 'b', limit: 10 }] }));
    expect(p.status).to.equal(422);
    expect(p.errors).to.deep.equal([{ pointer: '/a', code: 'too-long', detail: 'b', limit: 10 }]);
  });

  const outages: [string, unknown][] = [
    ['SQLite busy', sqliteError('SQLITE_BUSY', 'database is locked', 5)],
    ['SQLite locked', sqliteError('SQLITE_LOCKED', 'database table is locked', 6)],
    ['SQLite disk full', sqliteError('SQLITE_FULL', 'database or disk is full', 13)],
    ['SQLite read-only', sqliteError('SQLITE_READONLY', 'attempt to write a readonly database', 8)],
    ['SQLite I/O error', sqliteError('SQLITE_IOERR', 'disk I/O error', 10)],
    ['SQLite cannot open', sqliteError('SQLITE_CANTOPEN', 'unable to open database file', 14)],
    ['connection refused', systemError('ECONNREFUSED', 'connect')],
    ['connection reset', systemError('ECONNRESET', 'read')],
    ['timed out', systemError('ETIMEDOUT', 'connect')],
    ['disk full', systemError('ENOSPC', 'write')],
    ['read-only file system', systemError('EROFS', 'open')],
    ['PostgreSQL admin shutdown', pgError('57P01', 'terminating connection due to administrator command')],
    ['PostgreSQL cannot connect now', pgError('57P03', 'the database system is starting up')],
    ['PostgreSQL connection failure', pgError('08006', 'connection failure')],
    ['PostgreSQL too many connections', pgError('53300', 'sorry, too many clients already')],
    ['PostgreSQL disk full', pgError('53100', 'could not extend file')],
    ['PostgreSQL read-only transaction', pgError('25006', 'cannot execute INSERT in a read-only transaction')],
    ['PostgreSQL not accepting connections', pgError('55000', 'database "x" is not currently accepting connections')],
    ['pg connection ended', new Error('Connection terminated unexpectedly')],
    ['pg connection timeout', new Error('timeout exceeded when trying to connect')],
    ['knex pool acquire timeout', Object.assign(new Error('Knex: Timeout acquiring a connection. The pool is probably full.'), { name: 'KnexTimeoutError' })],
  ];
  for (const [what, err] of outages) {
    it(`answers ${what} as 503 with a neutral detail`, () => {
      const p = toProblem(err, 'r');
      expect(p.status).to.equal(503);
      expect(p.type).to.match(/problems\/(database|dependency)-unavailable$/);
      expect(p.detail).to.be.a('string');
      expect(p.detail).not.to.contain((err as Error).message);
    });
  }

  it('answers other driver errors (a constraint, a syntax error) as 500, not 503', () => {
    expect(toProblem(pgError('23514', 'new row violates check constraint')).status).to.equal(500);
    expect(toProblem(sqliteError('SQLITE_ERROR', 'no such table: x', 1)).status).to.equal(500);
  });
});

describe('the fallback error handler', () => {
  function appThrowing(err: unknown) {
    const app = express();
    app.get('/x', () => {
      throw err;
    });
    const sink = new PassThrough();
    let logs = '';
    sink.on('data', (c: Buffer) => (logs += c.toString()));
    app.use(problemHandler(createLogger({ level: 'debug', stream: sink })));
    return { app, logs: () => logs };
  }

  it('answers problem+json with Retry-After to an outage, never HTML, and logs no stack for it', async () => {
    const { app, logs } = appThrowing(new Unavailable('storage-unavailable', 'down', { status: undefined }));
    const res = await request(app).get('/x');
    expect(res.status).to.equal(503);
    expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
    expect(res.headers['retry-after']).to.match(/^\d+$/);
    expect(res.text).not.to.match(/<html|<pre|<!DOCTYPE/i);
    expect(logs()).not.to.match(/\n\s+at /);
  });

  it('answers problem+json when the error is something no mapping expects', async () => {
    // (Express treats a thrown null or undefined as no error at all.)
    for (const odd of ['a string', { status: 'not a number' }, { status: 200 }, { statusCode: 999 }]) {
      const res = await request(appThrowing(odd).app).get('/x');
      expect(res.status, String(odd)).to.equal(500);
      expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
    }
  });
});
