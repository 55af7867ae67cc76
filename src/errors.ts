import type { JobStatus } from './types.js';

/**
 * The reason a cancelled job's signal is aborted with, and its `result` rejects with.
 *
 * @example
 * ```ts
 * handle.result.catch((error) => { if (error instanceof JobCancelledError) console.log('cancelled', error.jobId); });
 * ```
 */
export class JobCancelledError extends Error {
  override name = 'JobCancelledError' as const;
  readonly jobId: string;

  constructor(jobId: string, why = 'cancelJob() was called') {
    super(`Job '${jobId}' was cancelled: ${why}`);
    this.jobId = jobId;
  }
}

/**
 * Thrown by `submitJob` when `queueSize` runs already wait; the job is not accepted.
 *
 * @example
 * ```ts
 * try { scheduler.submitJob(input); } catch (error) { if (error instanceof QueueFullError) shed(input); }
 * ```
 */
export class QueueFullError extends Error {
  override name = 'QueueFullError' as const;
  readonly queueSize: number;
  /** Runs waiting when the job was refused. */
  readonly waiting: number;

  /** `needed` is the room the job asked for: one run, or a batch's first children. */
  constructor(queueSize: number, waiting: number, needed = 1) {
    super(
      `The queue is full: ${waiting} of ${queueSize} runs (queueSize) wait, and the job needs room for ${needed}; it was not accepted`,
    );
    this.queueSize = queueSize;
    this.waiting = waiting;
  }
}

/**
 * Thrown by `submitJob` after `stop()` has been called.
 *
 * @example
 * ```ts
 * await scheduler.stop();
 * scheduler.submitJob(input); // throws SchedulerStoppedError
 * ```
 */
export class SchedulerStoppedError extends Error {
  override name = 'SchedulerStoppedError' as const;

  constructor() {
    super('The scheduler has been stopped; it accepts no more jobs');
  }
}

/**
 * Thrown by `submitJob` when a job with the same id is already stored.
 *
 * @example
 * ```ts
 * scheduler.submitJob({ id: 'nightly', name: 'report', handler });
 * scheduler.submitJob({ id: 'nightly', name: 'report', handler }); // throws DuplicateJobIdError
 * ```
 */
export class DuplicateJobIdError extends Error {
  override name = 'DuplicateJobIdError' as const;
  readonly jobId: string;

  /** `field` names the id's place in the input (`jobs[1].id`); `holder`, the job it names. */
  constructor(jobId: string, field = 'id', holder = 'a stored job') {
    super(`Expected \`${field}\` to be unused, got '${jobId}' (string), which names ${holder}`);
    this.jobId = jobId;
  }
}

/**
 * The error of an attempt that was running when its process died, or when a `stop()` with a
 * durable store passed its deadline; the job is retried per its policy at the next start(), or
 * fails with it when no attempt is left.
 *
 * @example
 * ```ts
 * // After a restart the class is gone; its name and fields are kept.
 * const error = snapshot.error as { name?: string; attempt?: number } | undefined;
 * if (error?.name === 'JobInterruptedError') console.log('cut off on attempt', error.attempt);
 * ```
 */
export class JobInterruptedError extends Error {
  override name = 'JobInterruptedError' as const;
  readonly jobId: string;
  readonly attempt: number;

  constructor(jobId: string, attempt: number) {
    super(`Job '${jobId}' was interrupted on attempt ${attempt}: its process stopped while it ran`);
    this.jobId = jobId;
    this.attempt = attempt;
  }
}

/**
 * What the result of a job rejects with when `stop()` leaves the job unfinished in a durable
 * store: it did not end in this process, and the next `start()` on the store resumes it.
 *
 * @example
 * ```ts
 * handle.result.catch((error) => {
 *   if (error instanceof JobKeptError) console.log(`${error.jobId} resumes at the next start()`);
 * });
 * ```
 */
export class JobKeptError extends Error {
  override name = 'JobKeptError' as const;
  readonly jobId: string;

  constructor(jobId: string) {
    super(
      `Job '${jobId}' had not ended when the scheduler stopped; the store keeps it, and the next start() resumes it`,
    );
    this.jobId = jobId;
  }
}

/** How one child of a batch ended. */
export interface BatchChildOutcome {
  readonly id: string;
  readonly status: Extract<JobStatus, 'completed' | 'failed' | 'cancelled'>;
  readonly result?: unknown;
  readonly error?: unknown;
}

/**
 * A batch's error when any child finally failed or was cancelled, raised once every child settled.
 *
 * @example
 * ```ts
 * batch.result.catch((error: BatchError) => error.outcomes.filter((o) => o.status !== 'completed'));
 * ```
 */
export class BatchError extends Error {
  override name = 'BatchError' as const;
  readonly outcomes: readonly BatchChildOutcome[];

  constructor(batchId: string, outcomes: readonly BatchChildOutcome[]) {
    const failed = outcomes.filter((outcome) => outcome.status !== 'completed').length;
    super(`Batch '${batchId}' failed: ${failed} of ${outcomes.length} children did not complete`);
    this.outcomes = outcomes;
  }
}
