import type { ReadinessCheck } from '../shared/readiness.js';
import type { SourceItemRepository } from './ports.js';
import type { NotifyPlatformClient } from './notify-platforms.js';
import type { SourcePoller } from './poll-source.js';
import type { NotifySourceConfig, SourceConfig } from './source-config.js';
import type { SourceAdapter } from './ports.js';

/** A configured source with what main.ts built for it: an adapter to poll, or the client of a platform that notifies. */
export type ConfiguredSource = { config: SourceConfig; adapter: SourceAdapter } | { config: NotifySourceConfig; platform: NotifyPlatformClient };

export { createSourcePoller, type SourcePoller, type PollReport, type SourceState, type SourceIngest } from './poll-source.js';
export { createSourceItemRepository } from './source-item-repository.js';
export { createSourceAdapter } from './create-adapter.js';
export { createFolderSource } from './folder-source.js';
export { createBucketSource } from './bucket-source.js';
export { createSftpSource, fingerprintOf } from './sftp-source.js';
export { createItemIds, PRESETS } from './metadata-presets.js';
export { createSourceMetrics } from './source-metrics.js';
export { createSourceAdmin, type SourceAdmin, type SourceOverview } from './source-admin.js';
export { loadSourcesFile, parseSources, SourcesConfigError, cronForInterval, type SourceConfig, type FolderSourceConfig, type SftpSourceConfig, type BucketSourceConfig, type PolledSourceConfig, type NotifySourceConfig, FORTY_SIX_ELKS_KEEP_REASON } from './source-config.js';
export { createNotifySource, type NotifySource, type NotifyAnswer } from './notify-source.js';
export { createNotifyPlatform, type NotifyPlatformClient, type CallLookup } from './notify-platforms.js';
export { createSourceNotificationRepository } from './source-notification-repository.js';
export { FetchRefused } from './platform-http.js';
export { SourceUnreachable, SourceItemGone, type SourceAdapter, type SourceEntry, type SourceItem, type SourceItemRepository, type SourceNotification, type SourceNotificationRepository } from './ports.js';

/**
 * /readyz details for the sources: last poll, last error, copies still at the source. A source that
 * cannot be reached does not make the service unready (the rest of gallra works); it is shown here and
 * in gallra_source_up.
 */
export function sourcesReadinessCheck(pollers: SourcePoller[], items: SourceItemRepository): ReadinessCheck {
  return {
    name: 'sources',
    async check() {
      const by = new Map((await items.counts()).map((c) => [c.source, c]));
      const details: Record<string, unknown> = {};
      for (const p of pollers) {
        const s = p.state();
        const c = by.get(s.name);
        details[s.name] = {
          lastPollAt: s.lastPollAt,
          lastError: s.lastError,
          copiesPending: s.deleteAtSource ? (c?.pending ?? 0) : 0,
          oldestPendingSince: s.deleteAtSource ? (c?.oldestPendingAt ?? null) : null,
          rejected: c?.rejected ?? 0,
          ...(s.deleteAtSource ? {} : { copiesKeptAtSource: s.keepReason }),
        };
      }
      return { ok: true, details };
    },
  };
}
