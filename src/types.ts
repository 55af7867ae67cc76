import type { Observable, SchedulerLike } from 'rxjs';
import type { RetryPolicy } from '../operators/retryBackoff.js';
import type { JobStore } from './jobStore.js';

/**
 * The seed's four priority levels. Any finite number is a valid priority; higher runs first.
 *
 * @example
 * ```ts
 * scheduler.submitJob({ name: 'page-oncall', priority: Priority.Critical, handler });
 * ```
 */
export const Priority = { Low: 0, Normal: 1, High: 2, Critical: 3 } as const;

export type JobStatus =
  | 'pending'
  | 'queued'
  | 'running'
  | 'retrying'
  | 'completed'
  | 'failed'
  | 'cancelled';

export type JobType = 'immediate' | 'scheduled' | 'cron' | 'recurring' | 'batch';

/** What a cron or recurring job does when a fire comes while its previous run is unfinished. */
export type OverlapPolicy = 'skip' | 'queue' | 'allow';

/**
 * When a job runs: once at a time, on a cron expression, or every so many ms.
 *
 * @example
 * ```ts
 * const nightly: Schedule = { type: 'cron', cronExpr: '0 0 * * *', timezone: 'Europe/Paris' };
 * ```
 */
export type Schedule = OnceSchedule | CronSchedule | IntervalSchedule;

/** A scheduled job's one run, at `startTime`; a past one runs at once. */
export interface OnceSchedule {
  readonly type: 'once';
  readonly startTime: Date | number;
}

/** A cron job's runs: 5 fields, or 6 with seconds first, read in `timezone` (default UTC). */
export interface CronSchedule {
  readonly type: 'cron';
  readonly cronExpr: string;
  readonly timezone?: string | undefined;
}

/** A recurring job's runs: every `every` ms, from `startTime` (default: one period from now). */
export interface IntervalSchedule {
  readonly type: 'interval';
  readonly every: number;
  readonly startTime?: Date | number | undefined;
  readonly maxRuns?: number | undefined;
}

/** What a cron or recurring job does about fires missed while no scheduler was running. */
export type MissedRunsPolicy = 'skip' | 'once';

/** What a handler is given besides its payload. */
export interface JobContext {
  /** Aborted on timeout (reason `JobTimeoutError`) or cancel (reason `JobCancelledError`). */
  readonly signal: AbortSignal;
  /** 1 for the first attempt of a run, 2 for its first retry, … */
  readonly attempt: number;
  /** The run of a cron or recurring job, from 1; always 1 for other jobs. */
  readonly run: number;
  readonly job: { readonly id: string; readonly name: string };
}

/**
 * Does the work: returns a value, a Promise, or an Observable whose last value is the result.
 * `JobHandler<never>` is a handler of any payload, for a registry of handlers of different kinds.
 *
 * @example
 * ```ts
 * const handler: JobHandler<string, string> = async (data, { signal }) => {
 *   await fetch(`https://example.com/${data}`, { signal });
 *   return `Processed: ${data}`;
 * };
 * ```
 */
export type JobHandler<P = unknown, R = unknown> = (
  payload: P,
  context: JobContext,
) => R | PromiseLike<R> | Observable<R>;

/**
 * A job's retry policy: {@link RetryPolicy} without `resetOnSuccess`. A job counts its attempts
 * by handler run, and a run that emits a value and then fails has still failed.
 */
export type JobRetryPolicy = Omit<RetryPolicy, 'resetOnSuccess'>;

/**
 * What `submitJob` takes: one of five kinds of job, told apart by `schedule` and `jobs` (and by
 * `type`, which may be left out). Only `name` is always required; a job without a `handler`
 * runs the one `define()` gave its name.
 *
 * The payload is checked against the handler: a handler that needs a payload needs one given.
 * A batch's `jobs` are checked one by one at run time only, so that they may mix payload types.
 *
 * @example
 * ```ts
 * scheduler.submitJob({ name: 'process_data', priority: Priority.High, payload: 'user_data', handler });
 * ```
 */
// `never` by default, so that `JobInput[]` holds jobs of any payload, as a batch's `jobs` do,
// while an unannotated handler parameter in it is `never`, not a silent `any`.
export type JobInput<P = never, R = unknown> =
  | ImmediateJobInput<P, R>
  | ScheduledJobInput<P, R>
  | CronJobInput<P, R>
  | RecurringJobInput<P, R>
  | BatchJobInput;

/**
 * Fields every kind of job takes besides `name`: for an options object that a helper of yours
 * spreads into its jobs.
 */
export interface JobOptions {
  readonly id?: string | undefined;
  readonly priority?: number | undefined;
  /** Overrides the scheduler's retry settings field by field. */
  readonly retryPolicy?: Partial<JobRetryPolicy> | undefined;
  /** Per-attempt timeout in ms; defaults to the config's `jobTimeout`. */
  readonly timeout?: number | undefined;
}

/** The payload a handler needs: required unless the handler takes `undefined`. */
// A key remapped mapped type, not a conditional type: it stays an object type while `P` is a
// type parameter, so a generic wrapper's `{ name, payload, handler }` still type-checks.
// `never` (JobInput's default) is a job of any payload: optional, of type unknown.
type PayloadField<P> = {
  readonly payload?: [P] extends [never] ? unknown : P;
} & {
  readonly [K in 'payload' as [P] extends [never] ? never : undefined extends P ? never : K]: P;
};

/** A job that runs a handler, given here or defined for its name. */
type HandlerJobFields<P, R> = JobOptions &
  PayloadField<P> & {
    /** What the job is called; a job without a `handler` runs the one `define()` gave it. */
    readonly name: string;
    readonly handler?: JobHandler<P, R> | undefined;
    readonly jobs?: undefined;
    readonly concurrency?: undefined;
  };

/** Fields only jobs that repeat take. */
interface RepeatFields {
  /** What a fire does while the previous run is unfinished. Default `'skip'`. */
  readonly overlap?: OverlapPolicy | undefined;
  /**
   * With a durable store, after a restart, one fire stands for all those missed while the
   * process was down: `'once'` runs it, `'skip'` (default) skips it. Either way the job then
   * continues from now.
   */
  readonly missedRuns?: MissedRunsPolicy | undefined;
}

interface NoRepeatFields {
  readonly overlap?: undefined;
  readonly missedRuns?: undefined;
}

/** Runs once, now. */
export type ImmediateJobInput<P = unknown, R = unknown> = HandlerJobFields<P, R> &
  NoRepeatFields & { readonly type?: 'immediate' | undefined; readonly schedule?: undefined };

/** Runs once, at `schedule.startTime`. */
export type ScheduledJobInput<P = unknown, R = unknown> = HandlerJobFields<P, R> &
  NoRepeatFields & { readonly type?: 'scheduled' | undefined; readonly schedule: OnceSchedule };

/** Runs at each fire time of `schedule.cronExpr`. */
export type CronJobInput<P = unknown, R = unknown> = HandlerJobFields<P, R> &
  RepeatFields & { readonly type?: 'cron' | undefined; readonly schedule: CronSchedule };

/** Runs every `schedule.every` ms. */
export type RecurringJobInput<P = unknown, R = unknown> = HandlerJobFields<P, R> &
  RepeatFields & { readonly type?: 'recurring' | undefined; readonly schedule: IntervalSchedule };

/** A batch's child: a job that runs now, of any payload type. */
export type BatchChildInput = ImmediateJobInput<never, unknown>;

/** Runs its `jobs` now, at most `concurrency` at once, and settles once all have. */
export interface BatchJobInput extends JobOptions, NoRepeatFields {
  readonly name: string;
  readonly type?: 'batch' | undefined;
  /** The children: one-off jobs, each with its own handler and payload. */
  readonly jobs: readonly BatchChildInput[];
  /** How many of the children may run at once. Default: the scheduler's `maxWorkers`. */
  readonly concurrency?: number | undefined;
  readonly payload?: undefined;
  readonly handler?: undefined;
  readonly schedule?: undefined;
}

/** A handle on a submitted job. */
export interface JobHandle<R = unknown> {
  readonly id: string;
  /**
   * Settles when the job ends: its result, or its final error (`JobCancelledError` when cancelled).
   * It never raises an unhandled rejection when nobody awaits it.
   */
  readonly result: Promise<R>;
  /**
   * This job's events, ending with its terminal event. It first replays the events that
   * happened while `submitJob` ran (`submitted`, `queued`, and `started` and more when a worker
   * was free), then follows live; subscribe before the job moves on to miss nothing.
   */
  readonly events$: Observable<JobEvent>;
  cancel(): boolean;
}

/**
 * A job's state at the moment it was asked for, in an object of its own. `result` and `error`
 * are the values themselves, not deep copies: treat them as read-only.
 */
export interface JobSnapshot {
  readonly id: string;
  readonly name: string;
  readonly type: JobType;
  readonly priority: number;
  readonly status: JobStatus;
  /** Attempts started, over all runs. */
  readonly attempts: number;
  readonly createdAt: number;
  readonly startedAt?: number;
  readonly finishedAt?: number;
  readonly result?: unknown;
  readonly error?: unknown;
  /**
   * When it next runs: a cron or recurring job's next fire (a retry of one of its runs aside), a
   * scheduled job's start time, or a retrying one-off job's next attempt.
   */
  readonly nextRunAt?: number;
  /** Runs fired so far: 1 for a one-off job once it has been queued. */
  readonly runs: number;
  readonly parentId?: string;
}

export type JobEventType =
  | 'submitted'
  | 'queued'
  | 'started'
  | 'retrying'
  | 'completed'
  | 'failed'
  | 'cancelled'
  | 'skipped';

/** Every field an event may carry besides those every event has, with its type. */
interface JobEventFieldTypes {
  /** `submitted` only: the job as accepted. */
  readonly job: JobSnapshot;
  /** `submitted` only: what a durable store keeps to run the job again after a restart. */
  readonly definition: JobDefinition;
  /** `submitted` and `queued`: the job's priority. */
  readonly priority: number;
  /** `completed`, and a final `skipped` that completes the job: the value. */
  readonly result: unknown;
  /** `retrying`, `failed` and `cancelled`, and a final `skipped` that fails the job: why. */
  readonly error: unknown;
  /** `started`: ms between queued and started. */
  readonly waitTime: number;
  /** `completed`, `failed`, `retrying`, and `cancelled` of a running attempt: ms the attempt ran. */
  readonly execTime: number;
  /** `retrying`: when the next attempt is queued. */
  readonly retryAt: number;
  /** `failed` or `retrying`: the attempt hit its timeout. */
  readonly timedOut: boolean;
  /** `queued` and `skipped` of cron and recurring jobs: the next fire. */
  readonly nextRunAt: number;
  /**
   * `skipped`: why the fire did not run: the run before it was under way (`overlap: 'skip'`),
   * the queue was full, or, after a restart on a durable store, it stands for the fires missed
   * while no process ran (`missedRuns: 'skip'`).
   */
  readonly reason: 'overlap' | 'queue-full' | 'missed';
}

/**
 * What every event has, and the fields of its type: `Needed` always there, `Optional` where
 * they apply. The fields of other types are `never`, and read as `undefined`: code that has not
 * narrowed the event by `type` can read any of them, and pass it where such a field is optional.
 */
type EventShape<
  Type extends JobEventType,
  Needed extends keyof JobEventFieldTypes,
  Optional extends keyof JobEventFieldTypes = never,
> = {
  readonly type: Type;
  readonly jobId: string;
  /** Scheduler time, epoch ms. */
  readonly at: number;
  /** The attempt within the run; 0 where no attempt is concerned. */
  readonly attempt: number;
  /** The run number of a cron or recurring job (1-based); 1 for one-off jobs. */
  readonly run: number;
  /** The job's status after the event. */
  readonly status: JobStatus;
  /** The job's status before the event; none before `submitted`. */
  readonly previous: Type extends 'submitted' ? undefined : JobStatus;
  /** True on the event that ends the job: no other event for it follows. */
  readonly final: boolean;
} & Pick<JobEventFieldTypes, Needed> &
  Partial<Pick<JobEventFieldTypes, Optional>> & {
    readonly [Field in Exclude<keyof JobEventFieldTypes, Needed | Optional>]?: never;
  };

/** A job was accepted. */
export type JobSubmittedEvent = EventShape<'submitted', 'job' | 'priority', 'definition'>;
/** A run, or a retry's attempt, entered the queue. */
export type JobQueuedEvent = EventShape<'queued', 'priority', 'nextRunAt'>;
/** An attempt got a worker. */
export type JobStartedEvent = EventShape<'started', 'waitTime'>;
/** An attempt failed and another will follow at `retryAt`. */
export type JobRetryingEvent = EventShape<'retrying', 'error' | 'retryAt', 'execTime' | 'timedOut'>;
/** A run completed; `final` when it was the job's last. */
export type JobCompletedEvent = EventShape<'completed', 'result', 'execTime'>;
/** A run failed for good; `final` when it was the job's last. */
export type JobFailedEvent = EventShape<'failed', 'error', 'execTime' | 'timedOut'>;
/** An attempt, or the job, was cancelled; `final` on the one that ends the job. */
export type JobCancelledEvent = EventShape<'cancelled', 'error', 'execTime'>;
/** A fire of a cron or recurring job did not run; a final one ends the job as its last run did. */
export type JobSkippedEvent = EventShape<'skipped', 'reason', 'nextRunAt' | 'result' | 'error'>;

/**
 * One transition of one job. `status` is the job's status after it, `previous` before it; the
 * store and the metrics are folds over these events alone. A union by `type`: a `switch` on it
 * narrows each case to the fields that event carries.
 *
 * @example
 * ```ts
 * scheduler.events$.subscribe((event) => {
 *   if (event.type === 'retrying') console.log(`retry at ${new Date(event.retryAt).toISOString()}`);
 * });
 * ```
 */
export type JobEvent =
  | JobSubmittedEvent
  | JobQueuedEvent
  | JobStartedEvent
  | JobRetryingEvent
  | JobCompletedEvent
  | JobFailedEvent
  | JobCancelledEvent
  | JobSkippedEvent;

/** The event of one type: `JobEventOf<'failed'>` is {@link JobFailedEvent}. */
export type JobEventOf<Type extends JobEventType> = Extract<JobEvent, { readonly type: Type }>;

/** When a job's runs happen, with every time in epoch ms. */
export type Timing =
  | { readonly kind: 'now' }
  | { readonly kind: 'once'; readonly startTime: number }
  | { readonly kind: 'cron'; readonly cronExpr: string; readonly timezone: string }
  | {
      readonly kind: 'interval';
      readonly every: number;
      readonly startTime?: number;
      readonly maxRuns: number;
    };

/** A job as a durable store keeps it: plain data, with its handler named, not held. */
export interface JobDefinition {
  readonly id: string;
  readonly name: string;
  readonly type: JobType;
  readonly priority: number;
  readonly payload: unknown;
  readonly timing: Timing;
  readonly retryPolicy: Omit<JobRetryPolicy, 'retryIf'>;
  readonly timeout: number;
  readonly overlap: OverlapPolicy;
  readonly missedRuns: MissedRunsPolicy;
  readonly concurrency: number;
  readonly parentId?: string;
  readonly childIds?: readonly string[];
}

export interface Quantiles {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

export interface SchedulerMetrics {
  /** Jobs accepted, batch children included. */
  readonly totalJobs: number;
  readonly queuedJobs: number;
  readonly runningJobs: number;
  readonly pendingJobs: number;
  readonly retryingJobs: number;
  /** Runs that completed: a cron job counts each of its runs. */
  readonly completedJobs: number;
  readonly failedJobs: number;
  readonly cancelledJobs: number;
  readonly retriedAttempts: number;
  readonly timedOutAttempts: number;
  readonly skippedRuns: number;
  /** Mean ms per finished attempt. */
  readonly averageExecTime: number;
  readonly execTime: Quantiles;
  readonly waitTime: Quantiles;
  /** Runs finished per second over the last metrics interval. */
  readonly throughput: number;
  readonly busyWorkers: number;
  readonly maxWorkers: number;
}

export interface SchedulerConfig {
  /** Handlers that may run at once. Default 4. */
  readonly maxWorkers?: number | undefined;
  /** Runs that may wait for a worker; a submission beyond it throws `QueueFullError`. Default 100. */
  readonly queueSize?: number | undefined;
  /** False dispatches in submission order. Default true. */
  readonly enablePriority?: boolean | undefined;
  /**
   * Anti-starvation: every `aging` ms a run has waited counts as one priority level, so a steady
   * stream of high-priority jobs cannot hold a low one back for ever. Default 0 (off).
   */
  readonly aging?: number | undefined;
  /** False gives one attempt unless a job's own `retryPolicy` says otherwise. Default true. */
  readonly enableRetry?: boolean | undefined;
  /** Total attempts, the first included. Default 3. */
  readonly retryAttempts?: number | undefined;
  /** The first retry's delay in ms. Default 1000. */
  readonly retryDelay?: number | undefined;
  /** Per-attempt timeout in ms. Default 30000. */
  readonly jobTimeout?: number | undefined;
  /** How often `metrics$` emits, in ms of scheduler time. Default 10000. */
  readonly metricsInterval?: number | undefined;
  /** False makes submitting a cron job throw. Default true. */
  readonly enableCron?: boolean | undefined;
  /**
   * Finished jobs kept per terminal status, oldest evicted first; a batch's finished children
   * stay until the batch ends, as its result needs them. Default 1000.
   */
  readonly retention?: number | undefined;
  /** Where time comes from. Default `asyncScheduler`; a TestScheduler runs it in virtual time. */
  readonly scheduler?: SchedulerLike | undefined;
  /**
   * Where jobs are kept. Default: in memory. `sqliteStore({ path })` from `rxjobs/sqlite` keeps
   * them in a file, so a restart recovers every unfinished job.
   */
  readonly store?: JobStore | undefined;
}

export interface StopOptions {
  /** Run every queued job before stopping. Default false. */
  readonly drain?: boolean | undefined;
  /** ms that running (and, with `drain`, queued) jobs get before their signals are aborted: 0 to 2147483647, or `Infinity`. Default: the config's `jobTimeout`. */
  readonly timeout?: number | undefined;
}

/** What `stop()` resolves with: every job it ended without a result. */
export interface StopReport {
  /**
   * Jobs that ended `cancelled` while the stop ran, with the status each had: by the stop (with
   * the in-memory store), or by a `cancelJob` meanwhile.
   */
  readonly cancelled: readonly {
    readonly id: string;
    readonly name: string;
    readonly previous: JobStatus;
  }[];
  /**
   * With a durable store: jobs the stop left unfinished in it, with the status stored for each,
   * which the next `start()` resumes. Always empty with the in-memory store, which cancels them.
   */
  readonly kept: readonly {
    readonly id: string;
    readonly name: string;
    readonly status: JobStatus;
  }[];
  /** Jobs that finished (completed or failed) while the stop waited for them. */
  readonly finishedDuringStop: number;
}
