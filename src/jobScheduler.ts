import { type Observable, type SchedulerLike, Subject, type Subscription, scan } from 'rxjs';
import { at } from '../operators/at.js';
import { nextCronFire } from '../operators/cron.js';
import { every } from '../operators/every.js';
import { isJobTimeoutError } from '../operators/jobTimeout.js';
import { priorityMergeMap } from '../operators/priorityMergeMap.js';
import { backoffDelay } from '../operators/retryBackoff.js';
import { assertNonEmptyString, assertOneOf, expectedMessage } from '../operators/validate.js';
import { runBatch } from './batchRun.js';
import { type ResolvedConfig, resolveConfig } from './config.js';
import {
  DuplicateJobIdError,
  JobCancelledError,
  QueueFullError,
  SchedulerStoppedError,
} from './errors.js';
import { type HandlerDefaults, HandlerRegistry } from './handlerRegistry.js';
import { LiveJobHandle } from './jobHandle.js';
import { newJobId } from './jobId.js';
import { type JobSpec, type SpecContext, toDefinition, toJobSpec } from './jobSpec.js';
import { isDurable, type JobStore, type RecoveredJob } from './jobStore.js';
import { LiveJob, type QueuedRun } from './liveJob.js';
import { MemoryStore } from './memoryStore.js';
import { MetricsFold } from './metricsFold.js';
import { resumeJobs } from './recovery.js';
import { type AttemptHooks, type AttemptOutcome, runAttempt } from './runAttempt.js';
import { armRuns, type ResumeOptions, type RunSourceHooks } from './runSources.js';
import { StopCoordinator } from './stopCoordinator.js';
import type {
  JobEvent,
  JobHandle,
  JobHandler,
  JobInput,
  JobSnapshot,
  JobStatus,
  SchedulerConfig,
  SchedulerMetrics,
  StopOptions,
  StopReport,
} from './types.js';

const JOB_STATUSES: readonly JobStatus[] = [
  'pending',
  'queued',
  'running',
  'retrying',
  'completed',
  'failed',
  'cancelled',
];

type EventFields = Partial<Omit<JobEvent, 'type' | 'jobId' | 'status' | 'previous'>>;
type MutableEventFields = { -readonly [K in keyof EventFields]: EventFields[K] };

/**
 * The seed's JobScheduler as a reactive pipeline: submissions are runs pushed into a Subject,
 * timers (`at`, `cron`, `every`) push the runs of delayed and repeating jobs, and every run
 * flows through `priorityMergeMap(runAttempt, { concurrency: maxWorkers })`. The pipeline's
 * output is `events$`; the job store and the metrics are folds over it.
 *
 * @example
 * ```ts
 * const scheduler = new JobScheduler({ maxWorkers: 4, queueSize: 100 });
 * await scheduler.start();
 * const job = scheduler.submitJob({
 *   name: 'process_data',
 *   priority: Priority.High,
 *   payload: 'user_data',
 *   handler: async (data) => `Processed: ${data}`,
 * });
 * console.log(await job.result); // 'Processed: user_data'
 * await scheduler.stop({ drain: true });
 * ```
 */
export class JobScheduler {
  /** Every job transition, hot. Completes after `stop()`. */
  readonly events$: Observable<JobEvent>;
  /** A snapshot every `metricsInterval` of scheduler time after `start()`, and a last one on stop. */
  readonly metrics$: Observable<SchedulerMetrics>;

  readonly #config: ResolvedConfig;
  readonly #scheduler: SchedulerLike;
  readonly #events = new Subject<JobEvent>();
  readonly #metricsSnapshots = new Subject<SchedulerMetrics>();
  readonly #runs = new Subject<QueuedRun>();
  readonly #store: JobStore;
  readonly #metrics: MetricsFold;
  readonly #live = new Map<string, LiveJob>();
  readonly #hooks: AttemptHooks;
  readonly #sourceHooks: RunSourceHooks;
  readonly #registry = new HandlerRegistry();
  readonly #specContext: SpecContext;
  /** A durable store is opened on first use; what it held unfinished resumes at start(). */
  #opened = false;
  #recovered: RecoveredJob[] = [];
  #state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  /** Runs submitted before `start()`, released in priority order when it is called. */
  #waitingForStart: QueuedRun[] = [];
  #pipeline: Subscription | undefined;
  #metricsTimer: Subscription | undefined;
  #queuedRuns = 0;
  #activeBatches = 0;
  #draining = false;
  #emitting = 0;
  readonly #captures: JobEvent[][] = [];
  #stop: StopCoordinator | undefined;

  constructor(config: SchedulerConfig = {}) {
    this.#config = resolveConfig(config);
    this.#scheduler = this.#config.scheduler;
    this.#sourceHooks = {
      scheduler: this.#scheduler,
      fire: (job, run, nextRunAt) => this.#fire(job, run, nextRunAt),
      sourceDone: (job) => this.#sourceDone(job),
      enqueue: (job, run, attempt) => this.#enqueue(job, run, attempt),
      runBatch: (job) => this.#runBatch(job),
    };
    this.#store = this.#config.store ?? new MemoryStore(this.#config.retention);
    this.#specContext = {
      config: this.#config,
      registry: this.#registry,
      durable: isDurable(this.#store),
    };
    this.#metrics = new MetricsFold(this.#config.maxWorkers, this.#scheduler.now());
    // The folds subscribe first, so any subscriber that reacts to an event already sees its effect.
    // One `scan` carries both: a `scan` each behind a `merge` cost every event eight calls.
    const folds = { store: this.#store, metrics: this.#metrics };
    this.#events
      .pipe(
        scan((state: typeof folds, event: JobEvent) => {
          state.store.apply(event);
          state.metrics.apply(event);
          return state;
        }, folds),
      )
      .subscribe();
    this.events$ = this.#events.asObservable();
    this.metrics$ = this.#metricsSnapshots.asObservable();
    this.#hooks = {
      scheduler: this.#scheduler,
      started: (run, waitTime) => {
        this.#queuedRuns -= 1;
        // One literal, as #transition would build it (see #announce).
        const { job } = run;
        const previous = job.status;
        job.status = 'running';
        return {
          type: 'started',
          jobId: job.id,
          at: this.#scheduler.now(),
          attempt: run.attempt,
          run: run.run,
          final: false,
          status: 'running',
          previous,
          waitTime,
        };
      },
      ended: (run, outcome) => this.#attemptEnded(run, outcome),
      cancelled: (run, reason, final, execTime) =>
        this.#transition(run.job, 'cancelled', final ? 'cancelled' : this.#idleStatus(run.job), {
          run: run.run,
          attempt: run.attempt,
          error: reason,
          execTime,
          final,
        }),
    };
  }

  /**
   * Starts the workers. Jobs submitted before it run now, highest priority first. With the
   * in-memory store it takes effect at once: the returned Promise is already settled.
   */
  start(): Promise<void> {
    if (this.#state !== 'idle') return Promise.resolve();
    try {
      this.#open();
    } catch (error) {
      return Promise.reject(error);
    }
    this.#state = 'running';
    const { maxWorkers, enablePriority, aging, metricsInterval } = this.#config;
    this.#pipeline = this.#runs
      .pipe(
        priorityMergeMap((run: QueuedRun) => runAttempt(run, this.#hooks), {
          concurrency: maxWorkers,
          priority: enablePriority ? (run: QueuedRun) => run.job.spec.priority : () => 0,
          aging: enablePriority ? aging : 0,
          scheduler: this.#scheduler,
        }),
      )
      .subscribe({
        next: (event) => this.#emit(event),
        error: (error) => this.#events.error(error),
      });
    if (metricsInterval !== Number.POSITIVE_INFINITY) {
      this.#metricsTimer = every(metricsInterval, { scheduler: this.#scheduler }).subscribe(() =>
        this.#publishMetrics(),
      );
    }
    const waiting = this.#waitingForStart;
    this.#waitingForStart = [];
    // A stable sort: equal priorities keep their submission order.
    if (enablePriority) waiting.sort((a, b) => b.job.spec.priority - a.job.spec.priority);
    for (const run of waiting) this.#runs.next(run);
    const recovered = this.#recovered;
    this.#recovered = [];
    if (recovered.length > 0) this.#asOneEmission(() => this.#resume(recovered));
    return Promise.resolve();
  }

  /**
   * Registers the handler for jobs of this name, so they can be submitted by name alone. With a
   * durable store that is the only way, since functions cannot be stored: define every handler
   * before `start()`, so that recovered jobs find theirs.
   *
   * @example
   * ```ts
   * scheduler.define('send_email', async (to: string, { signal }) => mailer.send(to, { signal }), {
   *   retryPolicy: { maxAttempts: 5 },
   * });
   * scheduler.submitJob({ name: 'send_email', payload: 'ada@example.com' });
   * ```
   */
  define<P = unknown, R = unknown>(
    name: string,
    handler: JobHandler<P, R>,
    defaults?: HandlerDefaults,
  ): void {
    this.#registry.define(name, handler as JobHandler, defaults);
  }

  #open(): void {
    if (this.#opened || !isDurable(this.#store)) return;
    this.#recovered = this.#store.open(this.#config.retention);
    this.#opened = true;
    for (const { snapshot } of this.#recovered) this.#metrics.restore(snapshot.status);
  }

  /** Picks up what the last process left unfinished; see recovery.ts. */
  #resume(recovered: readonly RecoveredJob[]): void {
    resumeJobs(recovered, {
      scheduler: this.#scheduler,
      registry: this.#registry,
      store: this.#store,
      adopt: (job) => this.#live.set(job.id, job),
      enqueue: (job, run, attempt) => this.#enqueue(job, run, attempt),
      retryLater: (job, run, attempt, retryAt) => this.#retryAt(job, run, attempt, retryAt),
      begin: (job, options) => this.#begin(job, options),
      emit: (job, type, status, fields) => {
        if (fields.final === true) {
          const ok = type === 'completed';
          this.#ending(job, ok, ok ? fields.result : fields.error);
        }
        this.#emit(this.#transition(job, type, status, fields));
      },
      runBatch: (batch) => this.#runBatch(batch),
    });
  }

  /**
   * Accepts a job, or throws without storing anything: a `TypeError` or `RangeError` naming the
   * bad field, `DuplicateJobIdError`, `QueueFullError`, `InvalidCronExpressionError` or
   * `SchedulerStoppedError`.
   */
  submitJob<P = unknown, R = unknown>(input: JobInput<P, R>): JobHandle<R> {
    if (this.#state === 'stopping' || this.#state === 'stopped') throw new SchedulerStoppedError();
    const spec = toJobSpec(input as JobInput, this.#specContext);
    this.#open();
    this.#checkIds(spec);
    this.#checkCapacity(spec);
    // Events of the submission itself happen before the caller holds the handle; they are
    // kept for the handle's events$ to replay.
    const duringSubmit: JobEvent[] = [];
    this.#captures.push(duringSubmit);
    let job: LiveJob;
    try {
      job = this.#accept(spec, undefined);
      this.#begin(job);
    } finally {
      this.#captures.pop();
    }
    // Usually every event captured is the job's own, and the array can be kept as it is.
    const own = duringSubmit.every((event) => event.jobId === job.id)
      ? duringSubmit
      : duringSubmit.filter((event) => event.jobId === job.id);
    return this.#handle(job, own) as JobHandle<R>;
  }

  /** Cancels a job that has not ended; false when there is no such job or it has ended. */
  cancelJob(id: string): boolean {
    assertNonEmptyString('id', id);
    const job = this.#live.get(id);
    if (job === undefined || job.ended) return false;
    this.#asOneEmission(() => this.#cancel(job, new JobCancelledError(id)));
    return true;
  }

  getJobStatus(id: string): JobSnapshot | undefined {
    assertNonEmptyString('id', id);
    this.#open();
    return this.#store.get(id);
  }

  /** Snapshots in submission order, all or those with one status. */
  listJobs(status?: JobStatus): JobSnapshot[] {
    if (status !== undefined) assertOneOf('status', status, JOB_STATUSES);
    this.#open();
    return this.#store.list(status);
  }

  getMetrics(): SchedulerMetrics {
    return this.#metrics.snapshot();
  }

  /**
   * Stops intake at once, then ends every job: with `drain`, queued jobs run first; running
   * jobs get `timeout` ms before their signals are aborted. Resolves with a report of the jobs it
   * cancelled; afterwards no timer is left, and `events$` and `metrics$` have completed.
   */
  stop(options: StopOptions = {}): Promise<StopReport> {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(expectedMessage('options', 'an object', options));
    }
    if (this.#stop !== undefined) return this.#stop.report;
    const { drain = false, timeout = this.#config.jobTimeout } = options;
    if (typeof drain !== 'boolean')
      throw new TypeError(expectedMessage('drain', 'a boolean', drain));
    if (typeof timeout !== 'number' || !(timeout >= 0)) {
      const ErrorClass = typeof timeout === 'number' ? RangeError : TypeError;
      throw new ErrorClass(
        expectedMessage('timeout', 'a number of ms from 0 and up, or Infinity', timeout),
      );
    }
    // Draining a scheduler that never started needs its workers.
    if (drain && this.#state === 'idle') void this.start();
    this.#state = 'stopping';
    this.#draining = drain;
    const stop = new StopCoordinator(this.#events, this.#scheduler, {
      isIdle: () =>
        this.#queuedRuns === 0 && this.#metrics.busyWorkers === 0 && this.#activeBatches === 0,
      onDeadline: () => this.#cancelAll('stop() deadline passed'),
      onFinished: () => this.#finish(),
      nameOf: (id) => this.#store.get(id)?.name ?? '',
    });
    this.#stop = stop;
    this.#asOneEmission(() => {
      for (const job of [...this.#live.values()]) {
        if (job.parentId === undefined) this.#windDown(job, drain);
      }
    });
    stop.begin(timeout);
    return stop.report;
  }

  #finish(): void {
    this.#state = 'stopped';
    if (isDurable(this.#store)) this.#store.close();
    this.#publishMetrics();
    this.#metricsTimer?.unsubscribe();
    this.#pipeline?.unsubscribe();
    this.#metricsSnapshots.complete();
    this.#events.complete();
  }

  #publishMetrics(): void {
    this.#metrics.tick(this.#scheduler.now());
    this.#metricsSnapshots.next(this.#metrics.snapshot());
  }

  #checkIds(spec: JobSpec): void {
    if (spec.id === undefined && spec.children.length === 0) return;
    const seen = new Set<string>();
    const check = (candidate: JobSpec): void => {
      if (candidate.id !== undefined) {
        if (
          seen.has(candidate.id) ||
          this.#live.has(candidate.id) ||
          this.#store.get(candidate.id) !== undefined
        ) {
          throw new DuplicateJobIdError(candidate.id);
        }
        seen.add(candidate.id);
      }
      for (const child of candidate.children) check(child);
    };
    check(spec);
  }

  #checkCapacity(spec: JobSpec): void {
    if (spec.timing.kind !== 'now') return;
    const needed = spec.type === 'batch' ? Math.min(spec.children.length, spec.concurrency) : 1;
    if (this.#queuedRuns + needed > this.#config.queueSize)
      throw new QueueFullError(this.#config.queueSize);
  }

  /** Stores the job (and a batch's children) with a `submitted` event each, parent first. */
  #accept(spec: JobSpec, parentId: string | undefined): LiveJob {
    const job = new LiveJob(spec, spec.id ?? newJobId(), parentId);
    const now = this.#scheduler.now();
    const { timing } = spec;
    if (timing.kind === 'once') job.nextRunAt = timing.startTime;
    else if (timing.kind === 'interval') job.nextRunAt = timing.startTime ?? now + timing.every;
    else if (timing.kind === 'cron')
      job.nextRunAt = nextCronFire(timing.cronExpr, now, timing.timezone);
    this.#live.set(job.id, job);
    if (spec.children.length === 0) {
      this.#announce(job, now, []);
      return job;
    }
    const children = spec.children.map(
      (child) => new LiveJob(child, child.id ?? newJobId(), job.id),
    );
    const announceAll = () => {
      this.#announce(
        job,
        now,
        children.map((child) => child.id),
      );
      for (const child of children) {
        this.#live.set(child.id, child);
        this.#announce(child, now, []);
      }
    };
    // A batch reaches a durable store in one commit, not one per child.
    if (isDurable(this.#store)) this.#store.atomically(announceAll);
    else announceAll();
    job.children = children;
    return job;
  }

  #announce(job: LiveJob, now: number, childIds: readonly string[]): void {
    const { spec, parentId } = job;
    const snapshot: { -readonly [K in keyof JobSnapshot]: JobSnapshot[K] } = {
      id: job.id,
      name: spec.name,
      type: spec.type,
      priority: spec.priority,
      status: 'pending',
      attempts: 0,
      createdAt: now,
      runs: 0,
    };
    if (job.nextRunAt !== undefined) snapshot.nextRunAt = job.nextRunAt;
    if (parentId !== undefined) snapshot.parentId = parentId;
    // Only a durable store needs the job as data; building it for every job would cost each one.
    const definition = this.#specContext.durable
      ? toDefinition(spec, job.id, parentId, childIds)
      : undefined;
    if (definition === undefined) {
      job.status = 'pending';
      // One literal, as #transition would build it: every job makes this event, and a literal
      // costs no fields object, no Object.assign and no out-of-object property array.
      this.#emit({
        type: 'submitted',
        jobId: job.id,
        at: now,
        attempt: 0,
        run: 0,
        final: false,
        status: 'pending',
        previous: undefined,
        job: snapshot,
        priority: spec.priority,
      });
      return;
    }
    const fields: MutableEventFields = {
      at: now,
      job: snapshot,
      priority: spec.priority,
      attempt: 0,
      run: 0,
      definition,
    };
    this.#emit(this.#transition(job, 'submitted', 'pending', fields));
  }

  /** Arms whatever makes the job's runs; see runSources.ts. */
  #begin(job: LiveJob, resume?: ResumeOptions): void {
    armRuns(job, this.#sourceHooks, resume);
  }

  /** A timer fired: queue a run, or skip it per `overlap` and a full queue. */
  #fire(job: LiveJob, run: number, nextRunAt: number | undefined): void {
    job.runs = run;
    job.nextRunAt = nextRunAt;
    const repeating = job.spec.type === 'cron' || job.spec.type === 'recurring';
    if (!repeating) {
      this.#enqueue(job, run, 1);
      return;
    }
    // Known before the run is queued, so that run's own outcome can be the job's final event.
    if (nextRunAt === undefined) job.sourceDone = true;
    const busy = job.busy || job.deferredRuns.length > 0;
    const full = this.#queuedRuns >= this.#config.queueSize;
    if ((busy && job.spec.overlap === 'skip') || full) {
      this.#skip(job, run, full ? 'queue-full' : 'overlap', nextRunAt);
      return;
    }
    if (busy && job.spec.overlap === 'queue') job.deferredRuns.push(run);
    else this.#enqueue(job, run, 1);
  }

  #enqueue(job: LiveJob, run: number, attempt: number): void {
    const queued: QueuedRun = {
      job,
      run,
      attempt,
      queuedAt: this.#scheduler.now(),
      cancelled: false,
    };
    job.queued.add(queued);
    this.#queuedRuns += 1;
    // One literal, as #transition would build it (see #announce).
    const status = job.running.size > 0 ? 'running' : 'queued';
    const previous = job.status;
    job.status = status;
    const { id: jobId, nextRunAt } = job;
    const { queuedAt: at } = queued;
    const priority = job.spec.priority;
    this.#emit(
      nextRunAt === undefined
        ? { type: 'queued', jobId, at, attempt, run, final: false, status, previous, priority }
        : {
            type: 'queued',
            jobId,
            at,
            attempt,
            run,
            final: false,
            status,
            previous,
            priority,
            nextRunAt,
          },
    );
    if (this.#state === 'idle') this.#waitingForStart.push(queued);
    else this.#runs.next(queued);
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
    const retry =
      this.#state === 'running' &&
      run.attempt < policy.maxAttempts &&
      (policy.retryIf === undefined || safeRetryIf(policy.retryIf, error, run.attempt));
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
    const retryAt = now + backoffDelay(policy, run.attempt);
    this.#retryAt(job, run.run, run.attempt + 1, retryAt);
    return this.#transition(job, 'retrying', job.running.size > 0 ? 'running' : 'retrying', {
      ...common,
      at: now,
      error,
      timedOut,
      retryAt,
    });
  }

  /** The backoff holds no worker: the next attempt re-enters the queue when its timer fires. */
  #retryAt(job: LiveJob, run: number, attempt: number, retryAt: number): void {
    const backoff = at(retryAt, this.#scheduler).subscribe(() => {
      job.backoffs.delete(backoff);
      this.#enqueue(job, run, attempt);
    });
    job.backoffs.add(backoff);
  }

  /** A run completed or failed for good. The job ends with it unless more runs will come. */
  #runEnded(job: LiveJob, type: 'completed' | 'failed', fields: MutableEventFields): JobEvent {
    job.lastOutcome = type;
    if (type === 'completed') job.lastResult = fields.result;
    else job.lastError = fields.error;
    // A run held back by `overlap: 'queue'` takes this one's place in the queue.
    const deferred = job.deferredRuns.shift();
    if (deferred !== undefined) this.#enqueue(job, deferred, 1);
    const final = job.sourceDone && !job.busy;
    if (final)
      this.#ending(job, type === 'completed', type === 'completed' ? fields.result : fields.error);
    fields.final = final;
    return this.#transition(job, type, final ? type : this.#idleStatus(job), fields);
  }

  /**
   * A fire that does not run. When it was the last fire and nothing is in flight, it ends the
   * job as its last run ended, or failed with QueueFullError if no run ever got a place.
   */
  #skip(
    job: LiveJob,
    run: number,
    reason: 'overlap' | 'queue-full',
    nextRunAt: number | undefined,
  ): void {
    const final = job.sourceDone && !job.busy && job.deferredRuns.length === 0;
    if (!final) {
      this.#emit(
        this.#transition(job, 'skipped', job.status, {
          run,
          attempt: 0,
          reason,
          ...(nextRunAt === undefined ? {} : { nextRunAt }),
        }),
      );
      return;
    }
    const ok = job.lastOutcome === 'completed';
    const error =
      job.lastOutcome === 'failed' ? job.lastError : new QueueFullError(this.#config.queueSize);
    this.#ending(job, ok, ok ? job.lastResult : error);
    this.#emit(
      this.#transition(job, 'skipped', ok ? 'completed' : 'failed', {
        run,
        attempt: 0,
        reason,
        final: true,
        ...(ok ? { result: job.lastResult } : { error }),
      }),
    );
  }

  /** A source that completes without a last fire (a cron expression with no more dates). */
  #sourceDone(job: LiveJob): void {
    job.sourceDone = true;
    job.source = undefined;
    if (job.busy || job.deferredRuns.length > 0 || job.ended) return;
    this.#cancel(job, new JobCancelledError(job.id, 'its schedule has no more fire times'));
  }

  /** What a job that has not ended is doing, judged by its runs in flight. */
  #idleStatus(job: LiveJob): JobStatus {
    if (job.running.size > 0) return 'running';
    if (job.queued.size > 0) return 'queued';
    if (job.backoffs.size > 0) return 'retrying';
    return 'pending';
  }

  #runBatch(batch: LiveJob): void {
    this.#activeBatches += 1;
    batch.source = runBatch(batch, {
      startChild: (child) => {
        if (this.#state === 'stopping' && !this.#draining) {
          this.#cancel(child, new JobCancelledError(child.id, 'stop() was called'));
        } else {
          this.#enqueue(child, 1, 1);
        }
      },
      finish: (ok, value) => {
        this.#activeBatches -= 1;
        batch.source = undefined;
        const type = ok ? 'completed' : 'failed';
        this.#ending(batch, ok, value);
        this.#emit(
          this.#transition(batch, type, type, {
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
  #cancel(job: LiveJob, reason: JobCancelledError): void {
    if (job.ended) return;
    this.#ending(job, false, reason);
    if (job.spec.type === 'batch' && job.source !== undefined) {
      this.#activeBatches -= 1;
    }
    this.#stopRuns(job);
    for (const child of job.children) this.#cancel(child, reason);
    const attempts = [...job.running];
    if (attempts.length === 0) {
      this.#emit(
        this.#transition(job, 'cancelled', 'cancelled', {
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

  /** Stops everything that would make or run another attempt of the job, except running ones. */
  #stopRuns(job: LiveJob): void {
    this.#stopTimers(job);
    this.#dropQueued(job);
  }

  /** No further fire, retry or held run: the job's runs in flight are its last. */
  #stopTimers(job: LiveJob): void {
    job.source?.unsubscribe();
    job.source = undefined;
    job.sourceDone = true;
    // Guarded: iterating a SmallSet makes a generator, and stop() sweeps every waiting job.
    if (job.backoffs.size > 0) {
      for (const backoff of job.backoffs) backoff.unsubscribe();
      job.backoffs.clear();
    }
    if (job.deferredRuns.length > 0) job.deferredRuns.length = 0;
  }

  /** Its queued runs are skipped when they reach a worker: the heap has no delete. */
  #dropQueued(job: LiveJob): void {
    if (job.queued.size === 0) return;
    for (const run of job.queued) {
      run.cancelled = true;
      this.#queuedRuns -= 1;
    }
    job.queued.clear();
  }

  /**
   * At stop: nothing that waits on time will run, so timers, backoffs and held runs end now.
   * Running attempts may finish; queued runs stay only when draining. A job left with nothing
   * in flight is cancelled at once; a batch winds down through its children.
   */
  #windDown(job: LiveJob, drain: boolean): void {
    const why = 'stop() was called';
    if (job.spec.type === 'batch') {
      if (drain) return;
      for (const child of job.children) {
        if (!child.ended && child.running.size === 0)
          this.#cancel(child, new JobCancelledError(child.id, why));
      }
      return;
    }
    if (job.running.size === 0 && (!drain || job.queued.size === 0)) {
      this.#cancel(job, new JobCancelledError(job.id, why));
      return;
    }
    this.#stopTimers(job);
    if (!drain) this.#dropQueued(job);
  }

  #cancelAll(why: string): void {
    this.#asOneEmission(() => {
      for (const job of [...this.#live.values()]) {
        if (job.parentId === undefined) this.#cancel(job, new JobCancelledError(job.id, why));
      }
    });
  }

  /**
   * Runs work that emits many events as if it were one: a stop in progress must not see the
   * scheduler idle, and complete events$, between two jobs of the same sweep.
   */
  #asOneEmission(work: () => void): void {
    this.#emitting += 1;
    try {
      work();
    } finally {
      this.#emitting -= 1;
    }
  }

  /** Records how the job ends; it settles when its final event has been emitted. */
  #ending(job: LiveJob, ok: boolean, value: unknown): void {
    job.ending ??= { ok, value };
  }

  #settle(job: LiveJob, ok: boolean, value: unknown): void {
    if (job.settled) return;
    this.#live.delete(job.id);
    job.settle(ok, value);
    const status = ok ? 'completed' : job.status === 'cancelled' ? 'cancelled' : 'failed';
    job.onSettled?.({ id: job.id, status, ...(ok ? { result: value } : { error: value }) });
  }

  #handle(job: LiveJob, duringSubmit: readonly JobEvent[]): JobHandle {
    return new LiveJobHandle(job, this.#events, duringSubmit, () => this.cancelJob(job.id));
  }

  /** Builds the event for a job's move to `status`, recording the status it leaves. */
  #transition(
    job: LiveJob,
    type: JobEvent['type'],
    status: JobStatus,
    fields: EventFields,
  ): JobEvent {
    const previous = type === 'submitted' ? undefined : job.status;
    job.status = status;
    const event = {
      type,
      jobId: job.id,
      at: fields.at ?? this.#scheduler.now(),
      attempt: 0,
      run: 1,
      final: false,
      status,
      previous,
    };
    // Object.assign, not a spread: a third of the cost, and every job makes four events.
    return Object.assign(event, fields);
  }

  #emit(event: JobEvent): void {
    for (const capture of this.#captures) capture.push(event);
    // #asOneEmission inlined: a closure per event is a cost every job pays four times.
    this.#emitting += 1;
    try {
      this.#events.next(event);
      // Settling after the final event keeps causes before effects: a batch hears of its
      // child's end, and a result Promise resolves, only once the event is out.
      const job = event.final ? this.#live.get(event.jobId) : undefined;
      if (job?.ending !== undefined) this.#settle(job, job.ending.ok, job.ending.value);
    } finally {
      this.#emitting -= 1;
    }
    // Only once every subscriber has seen the event may a stop complete the stream.
    if (this.#emitting === 0) this.#stop?.check();
  }
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
