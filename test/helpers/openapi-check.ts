import type { IncomingMessage, ServerResponse } from 'node:http';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { openApiDocument } from '../../src/openapi.js';

/**
 * Checks a response the app gave against /openapi.json: its path and method are described, its status
 * is one the operation lists, its content type one the status lists, and a JSON body matches the schema.
 * The web interface's files (outside /v1 and the operational endpoints) are not part of the API.
 */
const doc = JSON.parse(JSON.stringify(openApiDocument())) as {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
};
const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
ajv.addSchema(doc as object, 'openapi.json');

const templates = Object.keys(doc.paths).map((p) => ({ path: p, re: new RegExp('^' + p.replace(/\{[^}]+\}/g, '[^/]+') + '$') }));
const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
const validators = new Map<string, ReturnType<Ajv2020['compile']>>();

const inApi = (path: string) => /^\/(v1\/|healthz$|readyz$|metrics$|openapi\.json$)/.test(path);

export function checkAgainstOpenApi(method: string, path: string, status: number, contentType: string | undefined, body: Buffer | undefined): string | undefined {
  const where = `${method} ${path} → ${status}`;
  const template = templates.find((t) => t.re.test(path));
  if (!template) {
    // An unknown path gets the 404 problem; anything else outside the API is the web interface.
    if (!inApi(path) || status === 404) return status === 404 && inApi(path) ? checkProblem(where, contentType, body) : undefined;
    return `${where}: the path is not described`;
  }
  const item = doc.paths[template.path]!;
  const verb = method.toLowerCase() === 'head' && !item.head ? 'get' : method.toLowerCase();
  const operation = item[verb];
  if (!operation) return status === 404 ? checkProblem(where, contentType, body) : `${where}: the method is not described`;
  const response = operation.responses[String(status)];
  if (!response) return `${where}: the status is not described`;
  if (!response.content) return body?.length && method !== 'HEAD' ? `${where}: a body where none is described` : undefined;
  if (method === 'HEAD' || status === 204) return undefined;
  const type = (contentType ?? '').split(';')[0]!.trim();
  if (!response.content[type]) return `${where}: content type ${type || '(none)'} is not described (${Object.keys(response.content).join(', ')})`;
  if (!/^application\/(?:[\w.-]+\+)?json$/.test(type) || !body) return undefined;
  const key = pointer('paths', template.path, verb, 'responses', String(status), 'content', type, 'schema');
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile({ $ref: `openapi.json#/${key}` });
    validators.set(key, validate);
  }
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return `${where}: the body is not JSON`;
  }
  return validate(value) ? undefined : `${where}: ${ajv.errorsText(validate.errors)} in ${body.toString('utf8').slice(0, 300)}`;
}

function checkProblem(where: string, contentType: string | undefined, body: Buffer | undefined): string | undefined {
  if (!(contentType ?? '').startsWith('application/problem+json')) return `${where}: not problem+json`;
  return validateProblem(where, body);
}

let problemValidator: ReturnType<Ajv2020['compile']> | undefined;
function validateProblem(where: string, body: Buffer | undefined): string | undefined {
  problemValidator ??= ajv.compile({ $ref: 'openapi.json#/components/schemas/Problem' });
  try {
    return problemValidator(JSON.parse(body?.toString('utf8') ?? '')) ? undefined : `${where}: ${ajv.errorsText(problemValidator.errors)}`;
  } catch {
    return `${where}: the problem body is not JSON`;
  }
}

/** Records every response of `req` and, once it has finished, what does not match the API description. */
export function watchResponse(req: IncomingMessage, res: ServerResponse, violations: string[]): void {
  const chunks: Buffer[] = [];
  let size = 0;
  const keep = (chunk: unknown, encoding?: unknown) => {
    if (chunk === undefined || chunk === null || typeof chunk === 'function' || size > 1_000_000) return;
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    size += b.length;
    chunks.push(b);
  };
  const write = res.write.bind(res) as (...a: unknown[]) => boolean;
  const end = res.end.bind(res) as (...a: unknown[]) => ServerResponse;
  (res as { write: unknown }).write = (chunk: unknown, ...rest: unknown[]) => (keep(chunk, rest[0]), write(chunk, ...rest));
  (res as { end: unknown }).end = (chunk?: unknown, ...rest: unknown[]) => (keep(chunk, rest[0]), end(chunk, ...rest));
  const path = (req.url ?? '/').split('?')[0]!;
  res.once('finish', () => {
    const ct = res.getHeader('content-type');
    const violation = checkAgainstOpenApi(req.method ?? 'GET', path, res.statusCode, ct === undefined ? undefined : String(ct), size > 1_000_000 ? undefined : Buffer.concat(chunks));
    if (violation) violations.push(violation);
  });
}
