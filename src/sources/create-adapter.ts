import { createBucketSource } from './bucket-source.js';
import { createFolderSource } from './folder-source.js';
import type { SourceAdapter } from './ports.js';
import type { PolledSourceConfig } from './source-config.js';
import { createSftpSource } from './sftp-source.js';

/** The adapter a configured (polled) source names. */
export function createSourceAdapter(config: PolledSourceConfig): SourceAdapter {
  if (config.adapter === 'bucket') return createBucketSource(config);
  return config.adapter === 'sftp' ? createSftpSource(config) : createFolderSource({ root: config.path });
}
