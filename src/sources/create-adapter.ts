import { createFolderSource } from './folder-source.js';
import type { SourceAdapter } from './ports.js';
import type { SourceConfig } from './source-config.js';
import { createSftpSource } from './sftp-source.js';

/** The adapter a configured source names. */
export function createSourceAdapter(config: SourceConfig): SourceAdapter {
  return config.adapter === 'sftp' ? createSftpSource(config) : createFolderSource({ root: config.path });
}
