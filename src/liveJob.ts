import type { Subscription } from 'rxjs';
import type { BatchChildOutcome, JobCancelledError } from './errors.js';
import type { JobSpec } from './jobSpec.js';
import { addMember, deleteMember, type Members, memberCount, memberList } from './members.js';
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
  /** Aborts the handler and ends the attempt as failed with a `JobInterruptedError`. */
  interrupt(): void;
}

/** How a job or one of its runs ended: its result, or its error. */
export interface Outcome {
  readonly ok: boolean;
  readonly value: unknown;
}

/** A status a durable store keeps a job in at stop: a run dropped from the queue, or a retry. */
export type KeptStatus = 'queued' | 'retrying';

const ignore = (): void => {};
const NO_CHILDREN: readonly LiveJob[] = Object.freeze([]);

/**
 * What few jobs need: retries waiting out a backoff, runs held back, a repeating job's last
 * outcome, batch links and an awaited result. Kept apart, so that a job waiting in a backlog of
 * a million carries one field for all of it.
 */
class RareState {
  backoffs: Members<Subscription>;
  deferredRuns: number[] | undefined;
  lastRun: Outcome | undefined;
  cutShortBy: JobCancelledError | undefined;
  onSettled: ((outcome: BatchChildOutcome) => void) | undefined;
  children: readonly LiveJob[] = NO_CHILDREN;
  promise: Promise<unknown> | undefined;
  /** What a durable store keeps for the job at stop: a dropped run, or an unarmed retry. */
  keptStatus: KeptStatus | undefined;
  resolve: (value: unknown) => void = ignore;
  reject: (error: unknown) => void = ignore;
}

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
  #queued: Members<QueuedRun>;
  #running: Members<RunningAttempt>;
  /** The timer, cron, interval or batch feed that makes this job's runs. */
  source: Subscription | undefined;
  /** No more runs will be made: the source is done or was stopped. */
  sourceDone = false;
  /** How the job ends, set just before its final event is emitted; it settles once emitted. */
  ending: Outcome | undefined;
  #settled = false;
  #ref: { readonly id: string; readonly name: string } | undefined;
  #rare: RareState | undefined;

  constructor(spec: JobSpec, id: string, parentId: string | undefined) {
    this.spec = spec;
    this.id = id;
    this.parentId = parentId;
  }

  /** Runs of this job waiting for a worker. */
  get queuedCount(): number {
    return memberCount(this.#queued);
  }

  /** Attempts of this job running now. */
  get runningCount(): number {
    return memberCount(this.#running);
  }

  /** The attempts running now, as a list that later changes leave alone. */
  runningAttempts(): RunningAttempt[] {
    return memberList(this.#running);
  }

  /** Retries waiting out their backoff. */
  get backoffCount(): number {
    return memberCount(this.#rare?.backoffs);
  }

  /** Runs held back by `overlap: 'queue'` until the previous run ends. */
  get deferredCount(): number {
    return this.#rare?.deferredRuns?.length ?? 0;
  }

  addQueued(run: QueuedRun): void {
    this.#queued = addMember(this.#queued, run);
  }

  deleteQueued(run: QueuedRun): void {
    this.#queued = deleteMember(this.#queued, run);
  }

  addRunning(attempt: RunningAttempt): void {
    this.#running = addMember(this.#running, attempt);
  }

  deleteRunning(attempt: RunningAttempt): void {
    this.#running = deleteMember(this.#running, attempt);
  }

  addBackoff(timer: Subscription): void {
    // Made in place, not by a private getter: private methods cost every instance a brand field.
    this.#rare ??= new RareState();
    const extra = this.#rare;
    extra.backoffs = addMember(extra.backoffs, timer);
  }

  deleteBackoff(timer: Subscription): void {
    const rare = this.#rare;
    if (rare !== undefined) rare.backoffs = deleteMember(rare.backoffs, timer);
  }

  deferRun(run: number): void {
    this.#rare ??= new RareState();
    const extra = this.#rare;
    extra.deferredRuns ??= [];
    extra.deferredRuns.push(run);
  }

  /** The oldest run held back by `overlap: 'queue'`, taken out. */
  takeDeferredRun(): number | undefined {
    return this.#rare?.deferredRuns?.shift();
  }

  /** How the last run of a cron or recurring job ended, for a last fire that cannot run. */
  get lastRun(): Outcome | undefined {
    return this.#rare?.lastRun;
  }

  set lastRun(outcome: Outcome | undefined) {
    this.#rare ??= new RareState();
    this.#rare.lastRun = outcome;
  }

  /**
   * Why a cron or recurring job's schedule was cut short by a stop while runs of it were in
   * flight: it ends cancelled, for that reason, once they have ended.
   */
  get cutShortBy(): JobCancelledError | undefined {
    return this.#rare?.cutShortBy;
  }

  set cutShortBy(reason: JobCancelledError | undefined) {
    this.#rare ??= new RareState();
    this.#rare.cutShortBy = reason;
  }

  /** Set on batch children: tells the batch how the child ended. */
  get onSettled(): ((outcome: BatchChildOutcome) => void) | undefined {
    return this.#rare?.onSettled;
  }

  set onSettled(listener: ((outcome: BatchChildOutcome) => void) | undefined) {
    this.#rare ??= new RareState();
    this.#rare.onSettled = listener;
  }

  /** A batch's children, in order; none for other jobs. */
  get children(): readonly LiveJob[] {
    return this.#rare?.children ?? NO_CHILDREN;
  }

  set children(children: readonly LiveJob[]) {
    this.#rare ??= new RareState();
    this.#rare.children = children;
  }

  /**
   * Set while a durable store keeps the job at stop: a run of it was dropped from the queue
   * (`'queued'`) or its retry written but not armed (`'retrying'`). The job then does not end,
   * and is stored with that status once nothing of it runs.
   */
  get keptStatus(): KeptStatus | undefined {
    return this.#rare?.keptStatus;
  }

  set keptStatus(status: KeptStatus | undefined) {
    this.#rare ??= new RareState();
    this.#rare.keptStatus = status;
  }

  /** What a handler sees of its job; made on first read, so a job that waits holds none. */
  get ref(): { readonly id: string; readonly name: string } {
    this.#ref ??= Object.freeze({ id: this.id, name: this.spec.name });
    return this.#ref;
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** How the job settled, once it has. */
  get outcome(): Outcome | undefined {
    return this.#settled ? this.ending : undefined;
  }

  /** Ending or settled: nothing may start, queue or cancel it any more. */
  get ended(): boolean {
    return this.ending !== undefined;
  }

  /** True while a run of this job is queued, running or waiting out a backoff. */
  get busy(): boolean {
    return this.#queued !== undefined || this.#running !== undefined || this.backoffCount > 0;
  }

  /** What a job that has not ended is doing, judged by its runs in flight. */
  get idleStatus(): JobStatus {
    if (this.#running !== undefined) return 'running';
    if (this.#queued !== undefined) return 'queued';
    if (this.backoffCount > 0) return 'retrying';
    return this.#rare?.keptStatus ?? 'pending';
  }

  /**
   * No further fire, retry or held run: the runs in flight are the job's last. Returns how many
   * held runs it dropped.
   */
  stopTimers(): number {
    this.sourceDone = true;
    this.releaseTimers();
    const dropped = this.deferredCount;
    if (this.#rare !== undefined) this.#rare.deferredRuns = undefined;
    return dropped;
  }

  /**
   * No further fire or retry in this process, though the schedule has not ended: a durable store
   * keeps the job, and the next process arms them again. Held runs stay, for the run in flight
   * to hand on when it ends.
   */
  releaseTimers(): void {
    this.source?.unsubscribe();
    this.source = undefined;
    const rare = this.#rare;
    if (rare === undefined) return;
    const backoffs = memberList(rare.backoffs);
    rare.backoffs = undefined;
    for (const backoff of backoffs) backoff.unsubscribe();
  }

  /**
   * Marks the queued runs to be skipped when they reach a worker (the heap has no delete), and
   * returns them.
   */
  dropQueued(): QueuedRun[] {
    const queued = memberList(this.#queued);
    this.#queued = undefined;
    for (const run of queued) run.cancelled = true;
    return queued;
  }

  /**
   * Made on first read, so the many jobs nobody awaits cost no Promise; marked as handled, so a
   * failure nobody awaits raises no unhandled rejection.
   */
  get result(): Promise<unknown> {
    this.#rare ??= new RareState();
    const extra = this.#rare;
    if (extra.promise === undefined) {
      const settled = this.outcome;
      extra.promise =
        settled === undefined
          ? new Promise((resolve, reject) => {
              extra.resolve = resolve;
              extra.reject = reject;
            })
          : settled.ok
            ? Promise.resolve(settled.value)
            : Promise.reject(settled.value);
      extra.promise.catch(ignore);
    }
    return extra.promise;
  }

  /** Settles the job as it is ending, or as given when it had no ending (a recovered child). */
  settle(ok: boolean, value: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.ending ??= { ok, value };
    const { ending } = this;
    const rare = this.#rare;
    if (rare === undefined) return;
    if (ending.ok) rare.resolve(ending.value);
    else rare.reject(ending.value);
  }
}
