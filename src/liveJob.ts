import type { Subscription } from 'rxjs';
import type { BatchChildOutcome } from './errors.js';
import type { JobSpec } from './jobSpec.js';
import { type ReadonlySmallSet, SmallSet } from './smallSet.js';
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
const NO_RUNS: readonly number[] = Object.freeze([]);
/** What an empty set of a job reads as; never written to. */
const NONE: ReadonlySmallSet<never> = new SmallSet<never>();

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
  // Made on first use: a job waiting in a backlog of a million has one queued run and nothing
  // else, and each empty set or array would cost it 32 to 48 bytes.
  #queued: SmallSet<QueuedRun> | undefined;
  #running: SmallSet<RunningAttempt> | undefined;
  #backoffs: SmallSet<Subscription> | undefined;
  #deferredRuns: number[] | undefined;
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

  /** Runs of this job waiting for a worker. */
  get queued(): ReadonlySmallSet<QueuedRun> {
    return this.#queued ?? NONE;
  }

  /** Attempts of this job running now. */
  get running(): ReadonlySmallSet<RunningAttempt> {
    return this.#running ?? NONE;
  }

  /** Timers of retries waiting out their backoff. */
  get backoffs(): ReadonlySmallSet<Subscription> {
    return this.#backoffs ?? NONE;
  }

  /** Runs held back by `overlap: 'queue'` until the previous run ends, oldest first. */
  get deferredRuns(): readonly number[] {
    return this.#deferredRuns ?? NO_RUNS;
  }

  addQueued(run: QueuedRun): void {
    this.#queued ??= new SmallSet();
    this.#queued.add(run);
  }

  deleteQueued(run: QueuedRun): void {
    this.#queued?.delete(run);
  }

  addRunning(attempt: RunningAttempt): void {
    this.#running ??= new SmallSet();
    this.#running.add(attempt);
  }

  deleteRunning(attempt: RunningAttempt): void {
    this.#running?.delete(attempt);
  }

  addBackoff(timer: Subscription): void {
    this.#backoffs ??= new SmallSet();
    this.#backoffs.add(timer);
  }

  deleteBackoff(timer: Subscription): void {
    this.#backoffs?.delete(timer);
  }

  deferRun(run: number): void {
    this.#deferredRuns ??= [];
    this.#deferredRuns.push(run);
  }

  /** The oldest run held back by `overlap: 'queue'`, taken out. */
  takeDeferredRun(): number | undefined {
    return this.#deferredRuns?.shift();
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
    const backoffs = this.#backoffs;
    this.#backoffs = undefined;
    // Guarded: iterating a SmallSet makes a generator, and stop() sweeps every waiting job.
    if (backoffs !== undefined && backoffs.size > 0) {
      for (const backoff of backoffs) backoff.unsubscribe();
    }
    this.#deferredRuns = undefined;
  }

  /**
   * Marks the queued runs to be skipped when they reach a worker (the heap has no delete), and
   * returns how many there were.
   */
  dropQueued(): number {
    const queued = this.#queued;
    if (queued === undefined || queued.size === 0) return 0;
    for (const run of queued) run.cancelled = true;
    this.#queued = undefined;
    return queued.size;
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
