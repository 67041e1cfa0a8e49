// A Twilio Function (or the body of your own voice webhook): asks gallra whether the caller opted out
// before the call is recorded, then answers TwiML that records (with gallra's notify URL as the
// recordingStatusCallback) or does not. Anything but a clear "not opted out" (an error, a timeout, a
// withheld number) does not record: the safe default.
//
// Environment variables of the Function's service (Twilio Console → Functions and Assets → Services →
// your service → Environment Variables):
//   GALLRA_URL     https://gallra.kommun.example          (no trailing slash)
//   GALLRA_TOKEN   a phone-system token (npm run token -- create --role phone-system --name twilio)
//   GALLRA_SOURCE  the notify source's name in SOURCES_FILE, e.g. twilio
//   QUEUE_NAME     the TaskRouter/queue the call goes to (or replace dial.queue with dial.number)
exports.handler = async function handler(context, event, callback) {
  const twiml = new Twilio.twiml.VoiceResponse();
  let record = false;
  try {
    const res = await fetch(`${context.GALLRA_URL}/v1/opt-outs/check`, {
      method: 'POST',
      // The number only in the body, the token only in a header: neither reaches a URL or a log.
      headers: { Authorization: `Bearer ${context.GALLRA_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ number: event.From }),
      signal: AbortSignal.timeout(3000),
    });
    if (res.ok) record = (await res.json()).optedOut === false;
  } catch {
    record = false;
  }
  const dial = twiml.dial(
    record
      ? {
          record: 'record-from-answer-dual',
          recordingStatusCallback: `${context.GALLRA_URL}/v1/sources/${context.GALLRA_SOURCE}/notify`,
          recordingStatusCallbackMethod: 'POST',
          recordingStatusCallbackEvent: 'completed',
        }
      : {},
  );
  dial.queue(context.QUEUE_NAME);
  return callback(null, twiml);
};
