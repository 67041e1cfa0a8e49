/**
 * Imported first by every entry point (the service, the CLIs), so that on an unsupported Node.js they
 * refuse with one clear line before anything else is loaded.
 */
import { unsupportedNode } from './node-version.js';

const refusal = unsupportedNode(process.version);
if (refusal) {
  process.stderr.write(`${refusal}\n`);
  process.exit(1);
}
