import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import { expect } from 'chai';
import request from 'supertest';
import { ManualClock } from '../../src/shared/clock.js';
import { checkAgainstOpenApi } from '../helpers/openapi-check.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DOCS = path.join(ROOT, 'docs/integrations');

interface DataAction {
  config: {
    request: { requestUrlTemplate: string; requestType: string; headers: Record<string, string>; requestTemplate: string };
    response: { translationMap: Record<string, string>; successTemplate: string };
  };
  contract: { input: { inputSchema: Record<string, unknown> }; output: { successSchema: Record<string, unknown> } };
}

/** Genesys' ${input.x} / ${credentials.x} / ${x} substitution, as far as the contract uses it. */
const render = (template: string, values: Record<string, string>) => template.replace(/\$\{([A-Za-z0-9_.]+)\}/g, (_, k: string) => {
  if (!(k in values)) throw new Error(`the template names ${k}, which the test does not give`);
  return values[k]!;
});

/** A draft-04 schema as Genesys writes it, for Ajv (which reads the rest of it unchanged). */
const schemaOf = (s: Record<string, unknown>) => Object.fromEntries(Object.entries(s).filter(([k]) => k !== '$schema'));

/** The pre-call check as Genesys Cloud's data action and Amazon Connect's Lambda send it, against the running app. */
describe('the pre-call check from Genesys Cloud and Amazon Connect (docs/integrations)', () => {
  let t: TestApp;
  let token: string;

  beforeEach(async () => {
    t = await startTestApp({ clock: new ManualClock('2026-11-23T10:00:00.000Z') });
    token = await t.token('phone-system');
    await t.services.optOuts.registry.register({ number: '070-123 45 67' }, 'system:test');
  });
  afterEach(async () => {
    await t?.close();
  });

  it("sends the Genesys Cloud data action's request as its contract describes, and its answer fits the OpenAPI document and the contract's output", async () => {
    const action = JSON.parse(readFileSync(path.join(DOCS, 'genesys-cloud-data-action.json'), 'utf8')) as DataAction;
    const ajv = new Ajv({ strict: false });
    const validInput = ajv.compile(schemaOf(action.contract.input.inputSchema));
    const validOutput = ajv.compile(schemaOf(action.contract.output.successSchema));
    const { request: req, response } = action.config;
    const url = new URL(req.requestUrlTemplate);

    for (const [ani, optedOut] of [['tel:+46701234567', true], ['tel:+46707654321', false]] as const) {
      const input = { ani };
      expect(validInput(input)).to.equal(true);
      const values = { 'input.ani': ani, 'credentials.token': token };
      let r = request(t.app).post(url.pathname);
      for (const [k, v] of Object.entries(req.headers)) r = r.set(k, render(v, values));
      const res = await r.send(render(req.requestTemplate, values)).expect(200);
      expect(checkAgainstOpenApi('POST', url.pathname, res.status, res.headers['content-type'], Buffer.from(res.text))).to.equal(undefined);
      // The translation map's JSONPath ($.field) and the success template, as Genesys applies them.
      const translated = Object.fromEntries(Object.entries(response.translationMap).map(([k, p]) => [k, JSON.stringify(res.body[p.replace(/^\$\./, '')])]));
      const output = JSON.parse(render(response.successTemplate, translated)) as unknown;
      expect(validOutput(output), ajv.errorsText(validOutput.errors)).to.equal(true);
      expect(output).to.deep.equal({ optedOut });
    }
  });

  it("runs the Amazon Connect example Lambda against the app: record false for an opted-out caller, true otherwise, false without a number or when gallra refuses", async () => {
    const server: Server = t.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const saved = { url: process.env.GALLRA_URL, token: process.env.GALLRA_TOKEN };
    try {
      process.env.GALLRA_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      process.env.GALLRA_TOKEN = token;
      const { handler } = (await import(pathToFileURL(path.join(DOCS, 'amazon-connect-precall-check.mjs')).href)) as { handler: (e: unknown) => Promise<Record<string, string>> };
      // The event an "Invoke AWS Lambda function" block sends (Connect's documented shape, trimmed).
      const event = (address: string | undefined) => ({
        Name: 'ContactFlowEvent',
        Details: {
          ContactData: { ContactId: '5ca32fbd-8f92-46af-92a5-6b0f970f0efe', Channel: 'VOICE', CustomerEndpoint: address === undefined ? null : { Address: address, Type: 'TELEPHONE_NUMBER' } },
          Parameters: {},
        },
      });
      expect(await handler(event('+46701234567'))).to.deep.equal({ record: 'false', reason: 'opted-out' });
      expect(await handler(event('+46707654321'))).to.deep.equal({ record: 'true', reason: 'not-opted-out' });
      expect(await handler(event(undefined))).to.deep.equal({ record: 'false', reason: 'no-caller-number' });
      process.env.GALLRA_TOKEN = 'not-a-token';
      expect(await handler(event('+46707654321'))).to.deep.equal({ record: 'false', reason: 'gallra-401' });
      // Every value is a string: Connect's Lambda block takes a flat map of strings only.
      for (const v of Object.values(await handler(event('+46707654321')))) expect(v).to.be.a('string');
    } finally {
      process.env.GALLRA_URL = saved.url;
      process.env.GALLRA_TOKEN = saved.token;
      if (saved.url === undefined) delete process.env.GALLRA_URL;
      if (saved.token === undefined) delete process.env.GALLRA_TOKEN;
      await new Promise((r) => server.close(r));
    }
  });
});
