export { InvalidCronExpressionError, isInvalidCronExpressionError } from '../operators/cron.js';
export { isJobTimeoutError, JobTimeoutError } from '../operators/jobTimeout.js';
export type { BackoffJitter, RetryPolicy } from '../operators/retryBackoff.js';
export type { BatchChildOutcome } from './errors.js';
export {
  BatchError,
  DuplicateJobIdError,
  JobCancelledError,
  JobInterruptedError,
  JobKeptError,
  QueueFullError,
  SchedulerStoppedError,
} from './errors.js';
export type { HandlerDefaults } from './handlerRegistry.js';
export { JobScheduler } from './jobScheduler.js';
export type { AcceptedJob, DurableJobStore, JobStore, RecoveredJob } from './jobStore.js';
export type {
  BatchChildInput,
  BatchJobInput,
  CronJobInput,
  CronSchedule,
  ImmediateJobInput,
  IntervalSchedule,
  JobCancelledEvent,
  JobCompletedEvent,
  JobContext,
  JobDefinition,
  JobEvent,
  JobEventOf,
  JobEventType,
  JobFailedEvent,
  JobHandle,
  JobHandler,
  JobInput,
  JobOptions,
  JobQueuedEvent,
  JobRetryingEvent,
  JobRetryPolicy,
  JobSkippedEvent,
  JobSnapshot,
  JobStartedEvent,
  JobStatus,
  JobSubmittedEvent,
  JobType,
  MissedRunsPolicy,
  OnceSchedule,
  OverlapPolicy,
  Quantiles,
  RecurringJobInput,
  Schedule,
  ScheduledJobInput,
  SchedulerConfig,
  SchedulerMetrics,
  StopOptions,
  StopReport,
  Timing,
} from './types.js';
export { Priority } from './types.js';
