export type { CronOptions, Tick } from './cron.js';
export {
  cron,
  InvalidCronExpressionError,
  isInvalidCronExpressionError,
  nextCronFire,
} from './cron.js';
export type { EveryOptions } from './every.js';
export { every } from './every.js';
export type { FromHandlerOptions, SignalContext, SignalHandler } from './fromHandler.js';
export { fromHandler } from './fromHandler.js';
export { isJobTimeoutError, JobTimeoutError, jobTimeout } from './jobTimeout.js';
export type { PriorityMergeMapOptions } from './priorityMergeMap.js';
export { priorityMergeMap } from './priorityMergeMap.js';
export type { BackoffJitter, RetryPolicy } from './retryBackoff.js';
export { backoffDelay, retryBackoff } from './retryBackoff.js';
