export * from './object-store.js';
export { createStore, storeRoot } from './create-store.js';
export { createFsObjectStore } from './fs-object-store.js';
export { createS3ObjectStore, createS3Client } from './s3-object-store.js';
export { applyLifecycle, lifecycleRules, LIFECYCLE_RULE_IDS } from './lifecycle.js';
export { createS3SourceBucket, SourceBucketError, type SourceBucket, type SourceBucketOptions, type BucketObject } from './s3-source-bucket.js';
export { deleteOlderVersions } from './older-versions.js';
