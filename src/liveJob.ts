import type { Subscription } from 'rxjs';
import type { BatchChildOutcome } from './errors.js';
import type { JobSpec } from './jobSpec.js';
import { SmallSet } from './smallSet.js';
import type { JobStatus } from './types.js';

/** One run of a job waiting in the queue. Cancelling marks it, and the dispatcher skips it. */
export interface QueuedRun {
  readonly job: LiveJob;
  readonly run: number;
  readonly attempt: number;
  readonly queuedAt: number;
  cancelled: boolean;
}

/** A handler running now; `cancel` aborts its signal and ends the attempt as `cancelled`. */
export interface RunningAttempt {
  cancel(reason: Error, final: boolean): void;
}

const ignore = (): void => {};
const NO_CHILDREN: readonly LiveJob[] = Object.freeze([]);

/**
 * The scheduler's working state for a job that has not ended: what is queued, running or armed
 * for it. Snapshots live in the store; this holds what a snapshot cannot, such as the handler
 * and the timers, and is dropped when the job ends.
 */
export class LiveJob {
  readonly spec: JobSpec;
  readonly id: string;
  readonly parentId: string | undefined;
  status: JobStatus = 'pending';
  /** Fires so far. */
  runs = 0;
  nextRunAt: number | undefined;
  readonly queued = new SmallSet<QueuedRun>();
  readonly running = new SmallSet<RunningAttempt>();
  readonly backoffs = new SmallSet<Subscription>();
  /** Runs held back by `overlap: 'queue'` until the previous run ends. */
  readonly deferredRuns: number[] = [];
  /** The timer, cron, interval or batch feed that makes this job's runs. */
  source: Subscription | undefined;
  /** No more runs will be made: the source is done or was stopped. */
  sourceDone = false;
  lastResult: unknown;
  lastError: unknown;
  lastOutcome: 'completed' | 'failed' | undefined;
  /** Set on batch children: tells the batch how the child ended. */
  onSettled: ((outcome: BatchChildOutcome) => void) | undefined;
  children: readonly LiveJob[] = NO_CHILDREN;

  #settled: { readonly ok: boolean; readonly value: unknown } | undefined;
  #promise: Promise<unknown> | undefined;
  #resolve: (value: unknown) => void = ignore;
  #reject: (error: unknown) => void = ignore;
  #ref: { readonly id: string; readonly name: string } | undefined;

  constructor(spec: JobSpec, id: string, parentId: string | undefined) {
    this.spec = spec;
    this.id = id;
    this.parentId = parentId;
  }

  /** What a handler sees of its job; made on first read, so a job that waits holds none. */
  get ref(): { readonly id: string; readonly name: string } {
    this.#ref ??= Object.freeze({ id: this.id, name: this.spec.name });
    return this.#ref;
  }

  get settled(): boolean {
    return this.#settled !== undefined;
  }

  /** How the job settled, once it has. */
  get outcome(): { readonly ok: boolean; readonly value: unknown } | undefined {
    return this.#settled;
  }

  /** How the job ends, set just before its final event is emitted; it settles once emitted. */
  ending: { readonly ok: boolean; readonly value: unknown } | undefined;

  /** Ending or settled: nothing may start, queue or cancel it any more. */
  get ended(): boolean {
    return this.ending !== undefined || this.#settled !== undefined;
  }

  /** True while a run of this job is queued, running or waiting out a backoff. */
  get busy(): boolean {
    return this.queued.size > 0 || this.running.size > 0 || this.backoffs.size > 0;
  }

  /** What a job that has not ended is doing, judged by its runs in flight. */
  get idleStatus(): JobStatus {
    if (this.running.size > 0) return 'running';
    if (this.queued.size > 0) return 'queued';
    if (this.backoffs.size > 0) return 'retrying';
    return 'pending';
  }

  /** No further fire, retry or held run: the runs in flight are the job's last. */
  stopTimers(): void {
    this.source?.unsubscribe();
    this.source = undefined;
    this.sourceDone = true;
    // Guarded: iterating a SmallSet makes a generator, and stop() sweeps every waiting job.
    if (this.backoffs.size > 0) {
      for (const backoff of this.backoffs) backoff.unsubscribe();
      this.backoffs.clear();
    }
    if (this.deferredRuns.length > 0) this.deferredRuns.length = 0;
  }

  /**
   * Marks the queued runs to be skipped when they reach a worker (the heap has no delete), and
   * returns how many there were.
   */
  dropQueued(): number {
    const dropped = this.queued.size;
    if (dropped === 0) return 0;
    for (const run of this.queued) run.cancelled = true;
    this.queued.clear();
    return dropped;
  }

  /**
   * Made on first read, so the many jobs nobody awaits cost no Promise; marked as handled, so a
   * failure nobody awaits raises no unhandled rejection.
   */
  get result(): Promise<unknown> {
    if (this.#promise === undefined) {
      const settled = this.#settled;
      this.#promise =
        settled === undefined
          ? new Promise((resolve, reject) => {
              this.#resolve = resolve;
              this.#reject = reject;
            })
          : settled.ok
            ? Promise.resolve(settled.value)
            : Promise.reject(settled.value);
      this.#promise.catch(ignore);
    }
    return this.#promise;
  }

  settle(ok: boolean, value: unknown): void {
    if (this.#settled !== undefined) return;
    this.#settled = { ok, value };
    if (ok) this.#resolve(value);
    else this.#reject(value);
  }
}
