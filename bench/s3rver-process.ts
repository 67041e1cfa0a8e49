/** Runs the test S3-compatible server in a process of its own, so a benchmark's client does not starve it. */
import { startS3Server } from '../test/helpers/s3-server.js';

const server = await startS3Server();
process.stdout.write(JSON.stringify({ endpoint: server.endpoint, bucket: server.bucket, dir: server.dir }) + '\n');
const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
