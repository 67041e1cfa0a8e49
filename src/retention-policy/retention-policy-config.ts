import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/**
 * RETENTION_POLICY_FILE (JSON or YAML, the same body as PUT /v1/retention-policy): when set, that file
 * is the retention policy. Its schema lives here, a leaf module config.ts may load, so that a bad file
 * stops the start naming the variable and the rule.
 */

export class PolicyFileError extends Error {}

const queuePattern = z
  .string()
  .trim()
  .min(1, 'a queue name or a glob such as bygg*')
  .max(64, 'at most 64 characters')
  .describe('A queue name (compared ignoring case, Swedish rules) or a glob such as bygg*');

/** The schema of a policy body, given the ceiling (RETENTION_DAYS): retainDays above it is refused. */
export function policyBodySchema(ceiling: number) {
  const rule = z
    .strictObject({
      match: z.strictObject({ queue: queuePattern }),
      retainDays: z
        .number()
        .int('whole days')
        .min(1, 'at least 1 day')
        .max(ceiling, `at most ${ceiling} days: RETENTION_DAYS (${ceiling}) is the promise, and no rule may keep a call longer`)
        .optional()
        .describe('Days a call is kept from its start; at most RETENTION_DAYS'),
      record: z.literal(false).optional().describe('Calls in this queue are never recorded: refused at the pre-call check, discarded at ingest'),
    })
    .refine((r) => (r.retainDays === undefined) !== (r.record === undefined), { message: 'either retainDays or record: false, not both', params: { reason: 'invalid-value' } });
  return z.object({ rules: z.array(rule).max(1000, 'at most 1000 rules') });
}


/** The rules in `file`, checked against the ceiling (RETENTION_DAYS); PolicyFileError names what is wrong. */
export function readPolicyFile(file: string, ceiling: number): { rules: unknown[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PolicyFileError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let body: unknown;
  try {
    body = parseYaml(text); // YAML is a superset of JSON
  } catch (err) {
    throw new PolicyFileError(`${file} is neither JSON nor YAML: ${(err as Error).message}`);
  }
  const r = policyBodySchema(ceiling).safeParse(body);
  if (!r.success) throw new PolicyFileError(r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  return r.data;
}
