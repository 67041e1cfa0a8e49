/**
 * The service for bench:subject-request, in a process of its own, so that the benchmark's HTTP client
 * does not share its event loop. Reads the configuration the benchmark wrote, prints the port.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/app.js';
import type { ResolvedConfig } from '../src/config.js';
import { createServices } from '../src/services.js';
import { systemClock } from '../src/shared/clock.js';
import { createDatabase } from '../src/shared/database.js';
import { createLogger } from '../src/shared/logger.js';
import { createFsObjectStore } from '../src/storage/index.js';

const config = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as ResolvedConfig;
const db = createDatabase(config.databaseUrl);
const services = createServices({ config, db, store: createFsObjectStore({ root: path.join(config.dataDir, 'objects') }), logger: createLogger({ level: 'silent' }), clock: systemClock });
const server = createApp(services).listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port }) + '\n');
});
process.on('SIGTERM', () => server.close(() => db.destroy().then(() => process.exit(0))));
