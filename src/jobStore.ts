import type { SchedulerLike } from 'rxjs';
import type { JobDefinition, JobEvent, JobSnapshot, JobStatus } from './types.js';

/**
 * Where job snapshots live. The scheduler feeds it every event, in order (it is a fold over
 * `events$`), and asks it for snapshots.
 */
export interface JobStore {
  apply(event: JobEvent): void;
  get(id: string): JobSnapshot | undefined;
  /** In submission order. */
  list(status?: JobStatus): JobSnapshot[];
}

/** A job as `submitJob` accepted it: what a durable store needs to bring it back. */
export interface AcceptedJob {
  readonly definition: JobDefinition;
  readonly snapshot: JobSnapshot;
}

/** A job that had not ended when the last process stopped, as a durable store kept it. */
export interface RecoveredJob {
  readonly definition: JobDefinition;
  readonly snapshot: JobSnapshot;
  /** The run that was queued, running or retrying. */
  readonly run: number;
  /** The attempt that was queued or running, or the one that failed before a retry. */
  readonly attempt: number;
  /** When the retry was due, for a job that was waiting out a backoff. */
  readonly retryAt: number | undefined;
}

/** A store that outlives the process: opened at `start()`, closed at the end of `stop()`. */
export interface DurableJobStore extends JobStore {
  readonly durable: true;
  /**
   * Opens the storage, keeps `retention` finished jobs per status, returns the unfinished ones.
   * `scheduler` is the scheduler's clock, for anything the store does later on its own.
   */
  open(retention: number, scheduler: SchedulerLike): RecoveredJob[];
  /** Writes whatever is pending; throws if it cannot, keeping it pending. */
  flush(): void;
  /**
   * Puts what one `submitJob` accepted (a job, or a batch with its children) on disk before the
   * scheduler emits anything for it: all of it or, if this throws, none.
   */
  accept(jobs: readonly AcceptedJob[]): void;
  /** Writes whatever is pending and closes; closes all the same, then throws, if it cannot. */
  close(): void;
}

export function isDurable(store: JobStore): store is DurableJobStore {
  return (store as Partial<DurableJobStore>).durable === true;
}
