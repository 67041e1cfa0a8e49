/**
 * The Node.js gallra runs on: 24 (LTS) or later. package.json's `engines` says the same (a unit test
 * holds the two together); `npm install` brings Node 24 into node_modules/.bin for the npm scripts.
 */
export const MINIMUM_NODE_MAJOR = 24;

/** Why this Node (a `process.version` such as "v20.20.2") cannot run gallra, in one line; undefined when it can. */
export function unsupportedNode(version: string): string | undefined {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1]);
  if (major >= MINIMUM_NODE_MAJOR) return undefined;
  return (
    `gallra needs Node.js ${MINIMUM_NODE_MAJOR} or later, not ${version}: run it through npm ` +
    `(npm start, npm run <script>), which uses the Node.js ${MINIMUM_NODE_MAJOR} that npm install puts in ` +
    `node_modules/.bin, or install Node.js ${MINIMUM_NODE_MAJOR} (README, "Node.js")`
  );
}
