import type { SchedulerLike } from 'rxjs';
import { at } from '../operators/at.js';
import { nextCronFire } from '../operators/cron.js';
import { isJobTimeoutError } from '../operators/jobTimeout.js';
import { backoffDelay } from '../operators/retryBackoff.js';
import { BatchFeed, runBatch } from './batchRun.js';
import type { ResolvedConfig } from './config.js';
import { JobCancelledError, JobInterruptedError, QueueFullError } from './errors.js';
import {
  type EventFields,
  type MutableEventFields,
  queuedEvent,
  startedEvent,
  submittedEvent,
  transitionEvent,
} from './jobEvents.js';
import { newJobId } from './jobId.js';
import { type JobSpec, toDefinition } from './jobSpec.js';
import { type AcceptedJob, type DurableJobStore, isDurable, type JobStore } from './jobStore.js';
import { LiveJob, type QueuedRun } from './liveJob.js';
import type { AttemptHooks, AttemptOutcome } from './runAttempt.js';
import { armRuns, type ResumeOptions, type RunSourceHooks } from './runSources.js';
import type { JobDefinition, JobEvent, JobSkippedEvent, JobSnapshot, JobStatus } from './types.js';

/** What the lifecycle of jobs needs from the scheduler that owns it. */
export interface LifecycleContext {
  readonly config: ResolvedConfig;
  readonly store: JobStore;
  /**
   * Folds a transition into the store and the metrics, then sends it to the subscribers of
   * `events$`, each job's in order.
   */
  publish(event: JobEvent): void;
  /** False once stop() has begun: a failed attempt then fails for good instead of retrying. */
  running(): boolean;
  /** True while stop() without drain is in progress. */
  cancellingAll(): boolean;
  /** True once stop() has begun: a batch feeds no more children. */
  stopping(): boolean;
  /**
   * True while stop() is in progress with a durable store: jobs are left unfinished in it for
   * the next start(), not cancelled, and a retry is written but not armed.
   */
  keeping(): boolean;
  /** Hands a queued run to the workers, or holds it until start(). */
  dispatch(run: QueuedRun): void;
  /** Called after each outermost emission: a stop in progress may be complete now. */
  afterEmit(): void;
}

/**
 * What happens to each job, from acceptance to its final event: its runs are armed, queued,
 * retried, skipped or cancelled here, and each move is emitted as one event. The scheduler owns
 * the pipeline that runs the attempts and the public API; this owns the jobs that have not
 * ended, and the counts of what is queued.
 */
export class JobLifecycle {
  /** What an attempt asks of the scheduler: the events of its start and end. */
  readonly attemptHooks: AttemptHooks;
  readonly #context: LifecycleContext;
  readonly #scheduler: SchedulerLike;
  /** The store, when it is durable: accepted jobs go to it before they are emitted. */
  readonly #durable: DurableJobStore | undefined;
  readonly #live = new Map<string, LiveJob>();
  readonly #sourceHooks: RunSourceHooks;
  readonly #captures: JobEvent[][] = [];
  /** Ids of batch children not announced yet: a subscriber may submit while a batch is. */
  #announcing: ReadonlySet<string> = NO_ANNOUNCING;
  #queuedRuns = 0;
  readonly #offPath = new OffPathState();
  #emitting = 0;
  /**
   * What waits for a run's end (the key) to be out: a run held back by `overlap: 'queue'`, to
   * queue, or the cancel of a job whose schedule a stop cut short. More than one: that end's
   * subscribers may end another such run meanwhile.
   */
  readonly #afterEvent = new Map<JobEvent, AfterRunEnd>();
  /** Jobs whose `submitted` events are being emitted: a cancel waits until they are whole. */
  readonly #beingAnnounced: LiveJob[] = [];

  constructor(context: LifecycleContext) {
    this.#context = context;
    this.#scheduler = context.config.scheduler;
    this.#durable = isDurable(context.store) ? context.store : undefined;
    this.#sourceHooks = {
      scheduler: this.#scheduler,
      fire: (job, run, nextRunAt) => this.#fire(job, run, nextRunAt),
      missed: (job, run, nextRunAt) => this.#missed(job, run, nextRunAt),
      sourceDone: (job) => this.#sourceDone(job),
      enqueue: (job, run, attempt) => this.enqueue(job, run, attempt),
      runBatch: (job) => this.runBatch(job),
    };
    this.attemptHooks = {
      scheduler: this.#scheduler,
      started: (run, startedAt) => {
        this.#queuedRuns -= 1;
        return startedEvent(run, startedAt, startedAt - run.queuedAt);
      },
      ended: (run, outcome) => this.#attemptEnded(run, outcome),
      cancelled: (run, reason, final, execTime) =>
        this.transition(run.job, 'cancelled', final ? 'cancelled' : run.job.idleStatus, {
          run: run.run,
          attempt: run.attempt,
          error: reason,
          execTime,
          final,
        }),
    };
  }

  /** Runs waiting for a worker. */
  get queuedRuns(): number {
    return this.#queuedRuns;
  }

  /** Runs that take room in the queue: those queued and those held by `overlap: 'queue'`. */
  get waitingRuns(): number {
    return this.#queuedRuns + this.#offPath.heldRuns;
  }

  /** Batches still feeding children to the queue. */
  get activeBatches(): number {
    return this.#offPath.activeBatches;
  }

  /** A job that has not ended, by id. */
  get(id: string): LiveJob | undefined {
    return this.#live.get(id);
  }

  /** True for a job that has not ended, and for a batch's child that is not announced yet. */
  has(id: string): boolean {
    return this.#live.has(id) || this.#announcing.has(id);
  }

  /** True while any job's `submitted` events are being emitted. */
  get announcingAny(): boolean {
    return this.#beingAnnounced.length > 0;
  }

  /**
   * True while the job's `submitted` event, or its batch's, is being emitted: a cancel must wait
   * until it is out, and a batch's children are all announced.
   */
  announcing(job: LiveJob): boolean {
    for (const announced of this.#beingAnnounced) {
      if (announced === job || announced.id === job.parentId) return true;
    }
    return false;
  }

  /** Jobs that have not ended and belong to no batch, as a list that later changes leave alone. */
  roots(): LiveJob[] {
    const roots: LiveJob[] = [];
    for (const job of this.#live.values()) if (job.parentId === undefined) roots.push(job);
    return roots;
  }

  /** Takes on a job recovered from a durable store. */
  adopt(job: LiveJob): void {
    this.#live.set(job.id, job);
  }

  /** Runs `work` and returns the events emitted meanwhile, for a handle to replay. */
  capture(work: () => void): JobEvent[] {
    const events: JobEvent[] = [];
    this.#captures.push(events);
    try {
      work();
    } finally {
      this.#captures.pop();
    }
    return events;
  }

  /**
   * Stores the job (and a batch's children) with a `submitted` event each, parent first. A
   * durable store has them all on disk before any is emitted; if it cannot, this throws and
   * nothing was accepted.
   */
  accept(spec: JobSpec, parentId: string | undefined): LiveJob {
    const job = new LiveJob(spec, spec.id ?? newJobId(), parentId);
    const now = this.#scheduler.now();
    const { timing } = spec;
    if (timing.kind === 'once') job.nextRunAt = timing.startTime;
    else if (timing.kind === 'interval') job.nextRunAt = timing.startTime ?? now + timing.every;
    else if (timing.kind === 'cron')
      job.nextRunAt = nextCronFire(timing.cronExpr, now, timing.timezone);
    if (spec.children.length === 0) {
      const event = this.#submitted(job, now, NO_IDS);
      this.#durable?.accept([accepted(event)]);
      this.#live.set(job.id, job);
      this.#beingAnnounced.push(job);
      try {
        this.emit(event);
      } finally {
        this.#beingAnnounced.pop();
      }
      return job;
    }
    const children = spec.children.map(
      (child) => new LiveJob(child, child.id ?? newJobId(), job.id),
    );
    const events = [
      this.#submitted(
        job,
        now,
        children.map((child) => child.id),
      ),
      ...children.map((child) => this.#submitted(child, now, NO_IDS)),
    ];
    // The batch and its children reach a durable store as one record, not one per child.
    this.#durable?.accept(events.map(accepted));
    this.#live.set(job.id, job);
    // A subscriber may submit a batch in turn: its children join these until it is done.
    const outer = this.#announcing;
    this.#announcing = new Set([...outer, ...children.map((child) => child.id)]);
    this.#beingAnnounced.push(job);
    try {
      this.emit(events[0] as JobEvent);
      children.forEach((child, index) => {
        this.#live.set(child.id, child);
        this.emit(events[index + 1] as JobEvent);
      });
      job.children = children;
    } finally {
      this.#announcing = outer;
      this.#beingAnnounced.pop();
    }
    return job;
  }

  #submitted(job: LiveJob, now: number, childIds: readonly string[]): JobEvent {
    // Only a durable store needs the job as data; building it for every job would cost each one.
    const definition =
      this.#durable === undefined
        ? undefined
        : toDefinition(job.spec, job.id, job.parentId, childIds);
    return submittedEvent(job, now, definition);
  }

  /** Arms whatever makes the job's runs; see runSources.ts. */
  begin(job: LiveJob, resume?: ResumeOptions): void {
    armRuns(job, this.#sourceHooks, resume);
  }

  /** A timer fired: queue a run, or skip it per `overlap` and a full queue. */
  #fire(job: LiveJob, run: number, nextRunAt: number | undefined): void {
    job.runs = run;
    job.nextRunAt = nextRunAt;
    const repeating = job.spec.type === 'cron' || job.spec.type === 'recurring';
    if (!repeating) {
      this.enqueue(job, run, 1);
      return;
    }
    // Known before the run is queued, so that run's own outcome can be the job's final event.
    if (nextRunAt === undefined) job.sourceDone = true;
    const busy = job.busy || job.deferredCount > 0;
    const full = this.waitingRuns >= this.#context.config.queueSize;
    if ((busy && job.spec.overlap === 'skip') || full) {
      this.#skip(job, run, full ? 'queue-full' : 'overlap', nextRunAt);
      return;
    }
    if (busy && job.spec.overlap === 'queue') {
      job.deferRun(run);
      this.#offPath.heldRuns += 1;
    } else this.enqueue(job, run, 1);
  }

  /** The fires missed while no process ran, skipped as one (`missedRuns: 'skip'`). */
  #missed(job: LiveJob, run: number, nextRunAt: number | undefined): void {
    job.runs = run;
    job.nextRunAt = nextRunAt;
    if (nextRunAt === undefined) job.sourceDone = true;
    this.#skip(job, run, 'missed', nextRunAt);
  }

  enqueue(job: LiveJob, run: number, attempt: number): void {
    const queued: QueuedRun = {
      job,
      run,
      attempt,
      queuedAt: this.#scheduler.now(),
      cancelled: false,
    };
    job.addQueued(queued);
    this.#queuedRuns += 1;
    this.emit(queuedEvent(job, queued));
    this.#context.dispatch(queued);
  }

  /** Decides what a finished attempt means: a retry, or the end of its run. */
  #attemptEnded(run: QueuedRun, outcome: AttemptOutcome): JobEvent {
    const { job } = run;
    const common = { run: run.run, attempt: run.attempt, execTime: outcome.execTime };
    if (outcome.ok) {
      const { result, execTime } = outcome;
      return this.#runEnded(job, 'completed', {
        run: run.run,
        attempt: run.attempt,
        execTime,
        result,
      });
    }
    const { error } = outcome;
    const timedOut = isJobTimeoutError(error);
    const policy = job.spec.retryPolicy;
    const keeping = this.#context.keeping();
    // An attempt cut off by the stop's deadline is retried as recovery retries one cut off by a
    // crash: at once, whatever the error filter says.
    const interrupted = keeping && error instanceof JobInterruptedError;
    const retry =
      (this.#context.running() || keeping) &&
      run.attempt < policy.maxAttempts &&
      (policy.retryIf === undefined ||
        interrupted ||
        safeRetryIf(policy.retryIf, error, run.attempt));
    if (!retry) {
      const { execTime } = outcome;
      return this.#runEnded(job, 'failed', {
        run: run.run,
        attempt: run.attempt,
        execTime,
        error,
        timedOut,
      });
    }
    const now = this.#scheduler.now();
    const retryAt = interrupted ? now : now + backoffDelay(policy, run.attempt);
    // While a durable store keeps jobs, the retry is written for the next process to arm.
    if (keeping) job.keptStatus = 'retrying';
    else this.retryAt(job, run.run, run.attempt + 1, retryAt);
    return this.transition(job, 'retrying', job.runningCount > 0 ? 'running' : 'retrying', {
      ...common,
      at: now,
      error,
      timedOut,
      retryAt,
    });
  }

  /** The backoff holds no worker: the next attempt re-enters the queue when its timer fires. */
  retryAt(job: LiveJob, run: number, attempt: number, retryAt: number): void {
    const backoff = at(retryAt, this.#scheduler).subscribe(() => {
      job.deleteBackoff(backoff);
      this.enqueue(job, run, attempt);
    });
    job.addBackoff(backoff);
  }

  /** A run completed or failed for good. The job ends with it unless more runs will come. */
  #runEnded(job: LiveJob, type: 'completed' | 'failed', fields: MutableEventFields): JobEvent {
    // Only a repeating job reads it, when its last fire cannot run: no other job pays for it.
    if (job.spec.type === 'cron' || job.spec.type === 'recurring') {
      const ok = type === 'completed';
      job.lastRun = { ok, value: ok ? fields.result : fields.error };
    }
    // A run held back by `overlap: 'queue'` takes this one's place in the queue, once this
    // run's end is out: queued before it, it could start, and be seen to, before this run ended.
    const deferred = job.takeDeferredRun();
    const last =
      job.sourceDone && !job.busy && deferred === undefined && job.keptStatus === undefined;
    // A schedule a stop cut short ends the job cancelled, as it ends one idle at the stop: the
    // run's end goes out first, as any run's does, and the cancel after it.
    const cutShortBy = last ? job.cutShortBy : undefined;
    const final = last && cutShortBy === undefined;
    if (final)
      this.ending(job, type === 'completed', type === 'completed' ? fields.result : fields.error);
    fields.final = final;
    const status = final ? type : deferred === undefined ? job.idleStatus : 'queued';
    const event = this.transition(job, type, status, fields);
    if (deferred !== undefined) this.#afterEvent.set(event, { job, run: deferred });
    else if (cutShortBy !== undefined) this.#afterEvent.set(event, { job, cancel: cutShortBy });
    return event;
  }

  /**
   * A fire that does not run. When it was the last fire and nothing is in flight, it ends the
   * job as its last run ended. With no run ever made it fails with QueueFullError if that last
   * fire found no place, and is cancelled if it came while no scheduler ran.
   */
  #skip(
    job: LiveJob,
    run: number,
    reason: JobSkippedEvent['reason'],
    nextRunAt: number | undefined,
  ): void {
    const last = job.sourceDone && !job.busy && job.deferredCount === 0;
    const { lastRun } = job;
    // Nothing ever ran, and its last fire was not turned away: it came while no scheduler ran.
    const unrun = last && lastRun === undefined && reason === 'missed';
    if (!last || unrun) {
      this.emit(
        this.transition(job, 'skipped', job.status, {
          run,
          attempt: 0,
          reason,
          ...(nextRunAt === undefined ? {} : { nextRunAt }),
        }),
      );
      const why = 'its last fire came while no scheduler ran, and no run of it ever ran';
      if (unrun) this.cancel(job, new JobCancelledError(job.id, why));
      return;
    }
    const ok = lastRun?.ok === true;
    const error =
      lastRun !== undefined && !ok
        ? lastRun.value
        : new QueueFullError(this.#context.config.queueSize, this.waitingRuns);
    this.ending(job, ok, ok ? lastRun?.value : error);
    this.emit(
      this.transition(job, 'skipped', ok ? 'completed' : 'failed', {
        run,
        attempt: 0,
        reason,
        final: true,
        ...(ok ? { result: lastRun?.value } : { error }),
      }),
    );
  }

  /** A source that completes without a last fire (a cron expression with no more dates). */
  #sourceDone(job: LiveJob): void {
    job.sourceDone = true;
    job.source = undefined;
    if (job.busy || job.deferredCount > 0 || job.ended) return;
    this.cancel(job, new JobCancelledError(job.id, 'its schedule has no more fire times'));
  }

  runBatch(batch: LiveJob): void {
    this.#offPath.activeBatches += 1;
    runBatch(batch, {
      startChild: (child) => this.enqueue(child, 1, 1),
      // Once stop() has begun, a child not fed yet waits as a scheduled job does: a stop ends
      // it, or a durable store keeps it.
      mayFeed: () => !this.#context.stopping(),
      finish: (ok, value) => {
        this.#offPath.activeBatches -= 1;
        batch.source = undefined;
        const type = ok ? 'completed' : 'failed';
        this.ending(batch, ok, value);
        this.emit(
          this.transition(batch, type, type, {
            run: 1,
            attempt: 0,
            final: true,
            ...(ok ? { result: value } : { error: value }),
          }),
        );
      },
    });
  }

  /** Ends a job for good: its timers stop, queued runs are skipped, running attempts aborted. */
  cancel(job: LiveJob, reason: JobCancelledError): void {
    if (job.ended) return;
    // Before any event: a subscriber that cancels another job frees a worker, which must not
    // start a run of this one, or of a batch's child not cancelled yet.
    this.#dropQueuedTree(job);
    this.ending(job, false, reason);
    if (job.spec.type === 'batch' && job.source !== undefined) {
      this.#offPath.activeBatches -= 1;
    }
    // Its queued runs were dropped above, with the tree's: what is left to stop are its timers.
    this.#offPath.heldRuns -= job.stopTimers();
    // The children with nothing running first, so their events come out before a worker that
    // a running one frees starts another job.
    for (const child of job.children) if (child.runningCount === 0) this.cancel(child, reason);
    for (const child of job.children) this.cancel(child, reason);
    const attempts = job.runningAttempts();
    if (attempts.length === 0) {
      this.emit(
        this.transition(job, 'cancelled', 'cancelled', {
          run: job.runs,
          attempt: 0,
          error: reason,
          final: true,
        }),
      );
    } else {
      for (const [index, attempt] of attempts.entries()) {
        attempt.cancel(reason, index === attempts.length - 1);
      }
    }
  }

  /**
   * At stop: nothing that waits on time will run, so timers, backoffs and held runs end now.
   * Running attempts may finish; queued runs stay only when draining. A job left with nothing
   * in flight is cancelled at once; a batch winds down through its children.
   */
  windDown(job: LiveJob, drain: boolean): void {
    const why = 'stop() was called';
    if (job.spec.type === 'batch') {
      // Its children as single jobs: a child in backoff or not fed yet has nothing queued.
      for (const child of job.children) if (!child.ended) this.windDown(child, drain);
      // A child that settled above ran the feed before the unfed ones after it had ended, and
      // those have no feed of their own to run: the batch settles only if it runs once more.
      if (job.source instanceof BatchFeed) job.source.resume();
      return;
    }
    if (job.runningCount === 0 && (!drain || job.queuedCount === 0)) {
      this.cancel(job, new JobCancelledError(job.id, why));
      return;
    }
    // Its runs in flight may finish, but if the stop drops anything else it had to run, a fire
    // to come, a held run, a retry or (without drain) a queued run, its schedule is cut short.
    const repeating = job.spec.type === 'cron' || job.spec.type === 'recurring';
    const dropsRuns =
      !job.sourceDone ||
      job.deferredCount > 0 ||
      job.backoffCount > 0 ||
      (!drain && job.queuedCount > 0);
    if (repeating && dropsRuns) job.cutShortBy = new JobCancelledError(job.id, why);
    this.#offPath.heldRuns -= job.stopTimers();
    if (!drain) this.#queuedRuns -= job.dropQueued().length;
  }

  cancelAll(why: string): void {
    this.asOneEmission(() => {
      const roots = this.roots();
      // Every queued run first: a worker freed by the first cancelled attempt must not start a
      // job that is cancelled next.
      for (const job of roots) this.#dropQueuedTree(job);
      for (const job of roots) this.cancel(job, new JobCancelledError(job.id, why));
    });
  }

  /** Marks the queued runs of a job, and of a batch's children, to be skipped by the workers. */
  #dropQueuedTree(job: LiveJob): void {
    this.#queuedRuns -= job.dropQueued().length;
    for (const child of job.children) this.#dropQueuedTree(child);
  }

  /**
   * At stop, with a durable store: nothing more starts or fires in this process, but no job
   * ends for it. Timers stop, queued runs are dropped unless draining (the store has them
   * queued), and a batch feeds no more children; what runs may finish. The next start() on the
   * store resumes the rest.
   */
  keep(job: LiveJob, drain: boolean): void {
    if (job.ended) return;
    if (job.spec.type === 'batch') {
      // Its feed queues no more children (see runBatch), even when draining: those not fed
      // yet are not queued, and stay for the next start. It still ends if its last ones do.
      for (const child of job.children) this.keep(child, drain);
      return;
    }
    // A retry waiting out its backoff is the store's to arm again: the job must not end.
    if (job.backoffCount > 0) job.keptStatus = 'retrying';
    // A run held back by `overlap: 'queue'` stays held: the run in flight hands it on as it
    // ends, to run while draining or to be kept queued (see #afterRunEnd). Behind a retry, it
    // stays unfired: the store keeps one run per job, the retry's, and the next start fires the
    // held one again from the schedule.
    job.releaseTimers();
    if (!drain) this.#dropQueued(job);
  }

  /**
   * The stop's deadline, with a durable store: attempts still running are interrupted, as a
   * crash would cut them off, and retried at the next start() if their policy allows. Every
   * queued run is dropped first, so that none starts in a worker an interruption frees.
   */
  interruptAll(): void {
    this.#offPath.deadlinePassed = true;
    this.asOneEmission(() => {
      const unfinished = this.unfinished();
      for (const job of unfinished) {
        job.releaseTimers();
        this.#dropQueued(job);
      }
      for (const job of unfinished) {
        for (const attempt of job.runningAttempts()) attempt.interrupt();
      }
    });
  }

  /** Drops a kept job's queued runs: the store holds them queued for the next start(). */
  #dropQueued(job: LiveJob): void {
    const dropped = job.dropQueued();
    this.#queuedRuns -= dropped.length;
    const [earliest] = dropped.sort((a, b) => a.run - b.run || a.attempt - b.attempt);
    if (earliest === undefined) return;
    // A store keeps one run per job: sqliteStore the earliest in the state the job's status
    // names, now 'queued'. A store that keeps the run its last event named would keep a later
    // run that started, and ended, beside this one (overlap 'allow'): this one is named again.
    this.#keepQueued(job, earliest.run, earliest.attempt);
  }

  /** Records a run as queued, for the store to keep, without handing it to a worker. */
  #keepQueued(job: LiveJob, run: number, attempt = 1): void {
    const kept: QueuedRun = {
      job,
      run,
      attempt,
      queuedAt: this.#scheduler.now(),
      cancelled: true,
    };
    job.keptStatus = 'queued';
    this.emit(queuedEvent(job, kept));
  }

  /** Jobs that have not ended, batch children included: what a durable store keeps at stop. */
  unfinished(): LiveJob[] {
    return [...this.#live.values()].filter((job) => !job.ended);
  }

  /**
   * Runs work that emits many events as if it were one: a stop in progress must not see the
   * scheduler idle, and complete events$, between two jobs of the same sweep.
   */
  asOneEmission(work: () => void): void {
    this.#emitting += 1;
    try {
      work();
    } finally {
      this.#emitting -= 1;
    }
    // As after one event: a stop waiting for this sweep may be complete now.
    if (this.#emitting === 0) this.#context.afterEmit();
  }

  /** An event is being emitted: a stop must not complete the streams in the middle of it. */
  get emitting(): boolean {
    return this.#emitting > 0;
  }

  /** Records how the job ends; it settles when its final event has been emitted. */
  ending(job: LiveJob, ok: boolean, value: unknown): void {
    job.ending ??= { ok, value };
  }

  #settle(job: LiveJob, ok: boolean, value: unknown): void {
    if (job.settled) return;
    this.#live.delete(job.id);
    job.settle(ok, value);
    const status = ok ? 'completed' : job.status === 'cancelled' ? 'cancelled' : 'failed';
    job.onSettled?.({ id: job.id, status, ...(ok ? { result: value } : { error: value }) });
  }

  #afterRunEnd(end: JobEvent): void {
    const after = this.#afterEvent.get(end);
    if (after === undefined) return;
    this.#afterEvent.delete(end);
    const { job } = after;
    if ('cancel' in after) {
      // A subscriber of the end may have cancelled the job itself.
      this.cancel(job, after.cancel);
      return;
    }
    // Held until here, where it is queued, kept or dropped; counted here rather than where its
    // predecessor's end took it, which is on every job's path.
    this.#offPath.heldRuns -= 1;
    const { run } = after;
    // A subscriber of the end may have cancelled the job, or a stop ended it.
    if (job.ended) return;
    const stoppedHere = this.#context.cancellingAll() || this.#offPath.deadlinePassed;
    // A durable store keeps the run queued when it may not run here: the job is idle now.
    if (this.#context.keeping() && stoppedHere) this.#keepQueued(job, run);
    else if (!stoppedHere) this.enqueue(job, run, 1);
  }

  /** Builds the event for a job's move to `status`, recording the status it leaves. */
  transition(
    job: LiveJob,
    type: JobEvent['type'],
    status: JobStatus,
    fields: EventFields,
  ): JobEvent {
    return transitionEvent(job, type, status, fields, fields.at ?? this.#scheduler.now());
  }

  emit(event: JobEvent): void {
    for (const capture of this.#captures) capture.push(event);
    // asOneEmission() inlined: a closure per event is a cost every job pays four times.
    this.#emitting += 1;
    try {
      this.#context.publish(event);
      // Settling after the final event keeps causes before effects: a batch hears of its
      // child's end, and a result Promise resolves, only once the event is out (or waits to go
      // out first: see EventOutlet).
      const job = event.final ? this.#live.get(event.jobId) : undefined;
      if (job?.ending !== undefined) this.#settle(job, job.ending.ok, job.ending.value);
      if (this.#afterEvent.size > 0) this.#afterRunEnd(event);
    } finally {
      this.#emitting -= 1;
    }
    // Only once every subscriber has seen the event may a stop complete the stream.
    if (this.#emitting === 0) this.#context.afterEmit();
  }
}

/**
 * The lifecycle's state that no job's ordinary path reads. Kept out of JobLifecycle itself: one
 * field more there, on the object every event goes through, measured 5 to 10% slower per job.
 */
/** See JobLifecycle's `#afterEvent`. */
type AfterRunEnd =
  | { readonly job: LiveJob; readonly run: number }
  | { readonly job: LiveJob; readonly cancel: JobCancelledError };

class OffPathState {
  /** Batches still feeding children to the queue. */
  activeBatches = 0;
  /** Runs held back by `overlap: 'queue'`: they wait too, and take room in the queue. */
  heldRuns = 0;
  /** A stop's deadline passed and its attempts were interrupted: nothing more may start. */
  deadlinePassed = false;
}

const NO_IDS: readonly string[] = Object.freeze([]);
const NO_ANNOUNCING: ReadonlySet<string> = new Set();

/** A submitted event as a durable store keeps it; a durable scheduler's events carry both. */
function accepted(event: JobEvent): AcceptedJob {
  return { definition: event.definition as JobDefinition, snapshot: event.job as JobSnapshot };
}

/** A `retryIf` that throws is a bug in the policy, not a reason to take the scheduler down. */
function safeRetryIf(
  retryIf: (error: unknown, attempt: number) => boolean,
  error: unknown,
  attempt: number,
) {
  try {
    return retryIf(error, attempt);
  } catch {
    return false;
  }
}
