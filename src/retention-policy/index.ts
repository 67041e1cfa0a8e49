export { createRetentionPolicy, POLICY_FILE_ACTOR, type RetentionPolicy, type PolicyView, type RetentionDecision, type PolicyPreview, type PolicyApplication } from './retention-policy.js';
export { createPolicyRepository } from './policy-repository.js';
export { createChangeRecordingDeadline, type ChangeRecordingDeadline, type DeadlineChange } from './deadline-change.js';
export { compilePolicy, deadlineUnder, type Retention } from './policy-rules.js';
export { policyBodySchema } from './retention-policy-config.js';
export type { PolicyRule, PolicyVersion, PolicyOrigin, PolicyRepository, RecordingDeadlines, StoredDeadline } from './ports.js';
