// gallra's pre-call check for an Amazon Connect contact flow: the flow's "Invoke AWS Lambda function"
// block calls this function (Node.js 20 or later runtime), which asks gallra whether the caller opted
// out. Environment: GALLRA_URL (https://gallra.kommun.example) and GALLRA_TOKEN (a phone-system token;
// better from AWS Secrets Manager than as a plain variable). The number goes only in the body.
//
// The answer is the flat string map Connect requires: { record: "true" | "false" }. Anything that goes
// wrong (no number, gallra unreachable, a timeout) answers record: "false": the safe default.

export async function handler(event) {
  const number = event?.Details?.ContactData?.CustomerEndpoint?.Address;
  if (!number) return { record: 'false', reason: 'no-caller-number' };
  try {
    const res = await fetch(new URL('/v1/opt-outs/check', process.env.GALLRA_URL), {
      method: 'POST',
      headers: { Authorization: `Bearer ${process.env.GALLRA_TOKEN}`, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ number }),
      signal: AbortSignal.timeout(Number(process.env.GALLRA_TIMEOUT_MS ?? 2000)),
    });
    if (!res.ok) return { record: 'false', reason: `gallra-${res.status}` };
    const answer = await res.json();
    return answer.optedOut === false ? { record: 'true', reason: 'not-opted-out' } : { record: 'false', reason: 'opted-out' };
  } catch {
    return { record: 'false', reason: 'gallra-unreachable' };
  }
}
