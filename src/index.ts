export { InvalidCronExpressionError, isInvalidCronExpressionError } from '../operators/cron.js';
export { isJobTimeoutError, JobTimeoutError } from '../operators/jobTimeout.js';
export type { BackoffJitter, RetryPolicy } from '../operators/retryBackoff.js';
export type { BatchChildOutcome } from './errors.js';
export {
  BatchError,
  DuplicateJobIdError,
  JobCancelledError,
  QueueFullError,
  SchedulerStoppedError,
} from './errors.js';
export { JobScheduler } from './jobScheduler.js';
export type { JobStore } from './memoryStore.js';
export type {
  JobContext,
  JobEvent,
  JobEventType,
  JobHandle,
  JobHandler,
  JobInput,
  JobSnapshot,
  JobStatus,
  JobType,
  OverlapPolicy,
  Quantiles,
  Schedule,
  SchedulerConfig,
  SchedulerMetrics,
  StopOptions,
  StopReport,
} from './types.js';
export { Priority } from './types.js';
