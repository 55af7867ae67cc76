import { type Observable, type SchedulerLike, Subject, type Subscription } from 'rxjs';
import { every } from '../operators/every.js';
import { priorityMergeMap } from '../operators/priorityMergeMap.js';
import { assertNonEmptyString, assertOneOf } from '../operators/validate.js';
import { type ResolvedConfig, resolveConfig } from './config.js';
import {
  DuplicateJobIdError,
  JobCancelledError,
  JobKeptError,
  QueueFullError,
  SchedulerStoppedError,
} from './errors.js';
import { EventOutlet } from './eventOutlet.js';
import { type HandlerDefaults, HandlerRegistry } from './handlerRegistry.js';
import { storedJobCancelledEvent } from './jobEvents.js';
import { LiveJobHandle } from './jobHandle.js';
import { JobLifecycle } from './jobLifecycle.js';
import { type JobSpec, type SpecContext, toJobSpec } from './jobSpec.js';
import { isDurable, type JobStore, type RecoveredJob } from './jobStore.js';
import type { LiveJob, QueuedRun } from './liveJob.js';
import { MemoryStore } from './memoryStore.js';
import { MetricsFold } from './metricsFold.js';
import { resumeJobs } from './recovery.js';
import { runAttempt } from './runAttempt.js';
import { StopCoordinator } from './stopCoordinator.js';
import { resolveStopOptions } from './stopOptions.js';
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
  readonly #outlet: EventOutlet;
  readonly #metricsSnapshots = new Subject<SchedulerMetrics>();
  readonly #runs = new Subject<QueuedRun>();
  readonly #store: JobStore;
  readonly #metrics: MetricsFold;
  readonly #jobs: JobLifecycle;
  readonly #registry = new HandlerRegistry();
  readonly #specContext: SpecContext;
  /** A durable store is opened on first use; what it held unfinished resumes at start(). */
  #opened = false;
  #recovered: RecoveredJob[] = [];
  #state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  /**
   * Runs submitted before `start()`, and those it recovers, released together in priority order
   * once it has resumed what a durable store held.
   */
  #waitingForStart: QueuedRun[] = [];
  /** True while `start()` resumes recovered jobs: their runs wait with those submitted before. */
  #resuming = false;
  #pipeline: Subscription | undefined;
  #metricsTimer: Subscription | undefined;
  #draining = false;
  #stop: StopCoordinator | undefined;
  /**
   * submitJob calls, or a resume at start(), under way: a subscriber may call back in while a job
   * is announced or resumed.
   */
  #submitting = 0;
  readonly #afterSubmit: (() => void)[] = [];
  /** Cancels asked for while a job was announced: a batch has no children until it is done. */
  readonly #afterAnnounce: (() => void)[] = [];
  /** Jobs a subscriber cancelled as they were announced: they must not begin meanwhile. */
  readonly #cancelRequested = new Set<string>();
  /** stop() was called while a job was submitted: it waits, but takes no new job meanwhile. */
  #stopAsked = false;

  constructor(config: SchedulerConfig = {}) {
    this.#config = resolveConfig(config);
    this.#scheduler = this.#config.scheduler;
    this.#store = this.#config.store ?? new MemoryStore(this.#config.retention);
    this.#specContext = {
      config: this.#config,
      registry: this.#registry,
      durable: isDurable(this.#store),
    };
    this.#metrics = new MetricsFold(this.#config.maxWorkers, this.#scheduler.now());
    const store = this.#store;
    const metrics = this.#metrics;
    const outlet = new EventOutlet(
      this.#events,
      (id) => {
        // A job that has not ended is live; one that has is only in the store.
        const live = this.#jobs.get(id);
        return (live === undefined ? store.get(id)?.parentId : live.parentId) ?? id;
      },
      // Folded before it is sent, so a subscriber that reacts to an event already sees its
      // effect, and sees it even while the event waits (see EventOutlet).
      (event) => {
        store.apply(event);
        metrics.apply(event);
      },
    );
    this.#outlet = outlet;
    this.events$ = outlet.events;
    this.metrics$ = this.#metricsSnapshots.asObservable();
    this.#jobs = new JobLifecycle({
      config: this.#config,
      store: this.#store,
      publish: (event) => outlet.publish(event),
      running: () => this.#state === 'running',
      cancellingAll: () => this.#state === 'stopping' && !this.#draining,
      stopping: () => this.#state === 'stopping' || this.#state === 'stopped',
      keeping: () => this.#state === 'stopping' && isDurable(this.#store),
      dispatch: (run) => {
        if (this.#state === 'idle' || this.#resuming) this.#waitingForStart.push(run);
        else this.#runs.next(run);
      },
      afterEmit: () => this.#stop?.check(),
    });
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
        priorityMergeMap((run: QueuedRun) => runAttempt(run, this.#jobs.attemptHooks), {
          concurrency: maxWorkers,
          priority: enablePriority ? runPriority(aging) : () => 0,
          aging: enablePriority ? aging : 0,
          scheduler: this.#scheduler,
        }),
      )
      .subscribe({
        next: (event) => this.#jobs.emit(event),
        error: (error) => this.#events.error(error),
      });
    this.#metrics.begin(this.#scheduler.now());
    if (metricsInterval !== Number.POSITIVE_INFINITY) {
      this.#metricsTimer = every(metricsInterval, { scheduler: this.#scheduler }).subscribe(() =>
        this.#publishMetrics(),
      );
    }
    const submittedBefore = this.#waitingForStart;
    this.#waitingForStart = [];
    const recovered = this.#recovered;
    this.#recovered = [];
    if (recovered.length === 0) {
      this.#release(submittedBefore);
      return Promise.resolve();
    }
    // A stop asked for while the jobs are resumed waits until all are, as during a submission:
    // the rest would be queued and armed after it.
    this.#submitting += 1;
    try {
      this.#resuming = true;
      try {
        this.#jobs.asOneEmission(() => this.#resume(recovered));
      } finally {
        this.#resuming = false;
      }
      // The recovered runs were submitted first, in the last process: ahead of equal priorities.
      const resumed = this.#waitingForStart;
      this.#waitingForStart = [];
      this.#release([...resumed, ...submittedBefore]);
    } finally {
      this.#submitting -= 1;
      if (this.#submitting === 0) drainQueue(this.#afterSubmit);
    }
    return Promise.resolve();
  }

  /** Hands the workers the runs that waited for start(), highest priority first. */
  #release(waiting: QueuedRun[]): void {
    // A stable sort: equal priorities keep their submission order.
    if (this.#config.enablePriority) {
      waiting.sort((a, b) => b.job.spec.priority - a.job.spec.priority);
    }
    for (const run of waiting) this.#runs.next(run);
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
    // A bad default fails here, naming `defaults.<field>`, rather than every submitJob by name.
    this.#registry.define(name, handler as JobHandler, defaults, () => {
      toJobSpec({ name }, this.#specContext, 'defaults.');
    });
  }

  #open(): void {
    if (this.#opened || !isDurable(this.#store)) return;
    this.#recovered = this.#store.open(this.#config.retention, this.#scheduler);
    this.#opened = true;
    for (const { snapshot } of this.#recovered) this.#metrics.restore(snapshot.status);
  }

  /** Picks up what the last process left unfinished; see recovery.ts. */
  #resume(recovered: readonly RecoveredJob[]): void {
    const jobs = this.#jobs;
    resumeJobs(recovered, {
      scheduler: this.#scheduler,
      registry: this.#registry,
      store: this.#store,
      adopt: (job) => jobs.adopt(job),
      enqueue: (job, run, attempt) => jobs.enqueue(job, run, attempt),
      retryLater: (job, run, attempt, retryAt) => jobs.retryAt(job, run, attempt, retryAt),
      begin: (job, options) => jobs.begin(job, options),
      emit: (job, type, status, fields) => {
        if (fields.final === true) {
          const ok = type === 'completed';
          jobs.ending(job, ok, ok ? fields.result : fields.error);
        }
        jobs.emit(jobs.transition(job, type, status, fields));
      },
      runBatch: (batch) => jobs.runBatch(batch),
    });
  }

  /**
   * Accepts a job, or throws without storing anything: a `TypeError` or `RangeError` naming the
   * bad field, `DuplicateJobIdError`, `QueueFullError`, `InvalidCronExpressionError`,
   * `SchedulerStoppedError`, or with a durable store the error of a write that failed.
   */
  submitJob<P = unknown, R = unknown>(input: JobInput<P, R>): JobHandle<R> {
    if (this.#state === 'stopping' || this.#state === 'stopped' || this.#stopAsked) {
      throw new SchedulerStoppedError();
    }
    const spec = toJobSpec(input as JobInput, this.#specContext);
    this.#open();
    this.#checkIds(spec);
    this.#checkCapacity(spec);
    // Events of the submission itself happen before the caller holds the handle; they are
    // kept for the handle's events$ to replay.
    let accepted: LiveJob | undefined;
    const duringSubmit = this.#jobs.capture(() => {
      this.#submitting += 1;
      try {
        try {
          accepted = this.#jobs.accept(spec, undefined);
        } finally {
          // The job is whole now, its children announced: a cancel asked for meanwhile can
          // reach them, and comes before the job's runs are armed. Not while an outer job, whose
          // subscriber submitted this one, is still being announced.
          if (!this.#jobs.announcingAny) drainQueue(this.#afterAnnounce);
        }
        if (!accepted.ended && !this.#cancelRequested.has(accepted.id)) {
          this.#jobs.begin(accepted);
        }
      } finally {
        this.#submitting -= 1;
        // A stop asked for meanwhile: the job's runs are armed now, for it to wind down.
        if (this.#submitting === 0) drainQueue(this.#afterSubmit);
      }
    });
    const job = accepted as LiveJob;
    // Usually every event captured is the job's own, and the array can be kept as it is.
    const own = duringSubmit.every((event) => event.jobId === job.id)
      ? duringSubmit
      : duringSubmit.filter((event) => event.jobId === job.id);
    return this.#handle(job, own) as JobHandle<R>;
  }

  /** Cancels a job that has not ended; false when there is no such job or it has ended. */
  cancelJob(id: string): boolean {
    assertNonEmptyString('id', id);
    const job = this.#jobs.get(id);
    // A child of a batch being announced, not announced yet itself: it is cancelled once it is.
    if (job === undefined) {
      if (!this.#jobs.has(id)) return this.#cancelStored(id);
      this.#cancelOnceAnnounced(id);
      return true;
    }
    if (job.ended) return false;
    // Cancelled now, its events would come out between its announcement's, or before a batch
    // had children to cancel.
    if (this.#jobs.announcing(job)) this.#cancelOnceAnnounced(id);
    else this.#cancel(job);
    return true;
  }

  /**
   * A job a durable store holds for the next start(), before that start has resumed it: it ends
   * now, in the store too, and is not resumed. A batch takes its stored children with it.
   */
  #cancelStored(id: string): boolean {
    // Stored jobs wait in memory only until start() resumes them; after a stop() the streams
    // are closed, and the jobs are the next process's.
    if (this.#state !== 'idle') return false;
    this.#open();
    const entry = this.#recovered.find(({ definition }) => definition.id === id);
    if (entry === undefined) return false;
    const ending = new Set([...(entry.definition.childIds ?? []), id]);
    const children = this.#recovered.filter(
      ({ definition }) => definition.id !== id && ending.has(definition.id),
    );
    this.#recovered = this.#recovered.filter(({ definition }) => !ending.has(definition.id));
    const at = this.#scheduler.now();
    this.#jobs.asOneEmission(() => {
      // Children first, as a live batch's: the batch's event is the last of its tree.
      for (const { snapshot } of [...children, entry]) {
        const reason = new JobCancelledError(snapshot.id);
        this.#jobs.emit(storedJobCancelledEvent(snapshot, reason, at));
      }
    });
    return true;
  }

  #cancel(job: LiveJob): void {
    if (!job.ended) {
      this.#jobs.asOneEmission(() => this.#jobs.cancel(job, new JobCancelledError(job.id)));
    }
  }

  #cancelOnceAnnounced(id: string): void {
    this.#cancelRequested.add(id);
    this.#afterAnnounce.push(() => {
      this.#cancelRequested.delete(id);
      const job = this.#jobs.get(id);
      if (job !== undefined) this.#cancel(job);
    });
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
   * Stops intake at once, then winds every job down: with `drain`, queued jobs run first;
   * running jobs get `timeout` ms before their signals are aborted. With the in-memory store the
   * jobs that have not ended are cancelled; a durable store keeps them for the next `start()`,
   * and an attempt cut off at the deadline is retried there. Resolves with a report of the jobs
   * it cancelled and kept; afterwards no timer is left, and `events$` and `metrics$` have
   * completed. Rejects with a `StoreWriteError` if a durable store fails its last write: the
   * scheduler is stopped all the same, the error's `stopReport` is the report, and the next
   * `start()` on the file recovers as after a crash. Bad options throw, whether or not a stop
   * is already under way.
   */
  stop(options: StopOptions = {}): Promise<StopReport> {
    const { drain, timeout } = resolveStopOptions(options, this.#config.jobTimeout);
    if (this.#stop !== undefined) return this.#stop.report;
    // A stop asked for while a job is submitted waits until that job's runs are armed: it
    // then winds them down with the rest, where a stop in the middle would leave them armed.
    if (this.#submitting > 0) {
      // Intake closes now all the same: only the job being submitted is let through.
      this.#stopAsked = true;
      return new Promise((resolve, reject) => {
        this.#afterSubmit.push(() => this.stop(options).then(resolve, reject));
      });
    }
    // Draining a scheduler that never started needs its workers; a store that cannot open
    // leaves it idle, and stop() fails as start() would.
    const startFirst = drain && this.#state === 'idle';
    if (startFirst) {
      try {
        this.#open();
      } catch (error) {
        return Promise.reject(error);
      }
    }
    // A durable store keeps what has not ended for the next start(), rather than cancel it:
    // a deploy must not lose the jobs that a crash would not.
    const keep = isDurable(this.#store);
    const stop = new StopCoordinator(this.#outlet.events, this.#scheduler, {
      isIdle: () =>
        !this.#jobs.emitting &&
        this.#jobs.queuedRuns === 0 &&
        this.#metrics.busyWorkers === 0 &&
        // A durable store keeps a batch whose children are not all fed: it waits for nothing.
        (keep || this.#jobs.activeBatches === 0),
      onDeadline: () =>
        keep ? this.#jobs.interruptAll() : this.#jobs.cancelAll('stop() deadline passed'),
      onFinished: () => this.#finish(),
      nameOf: (id) => this.#store.get(id)?.name ?? '',
      kept: () => [
        ...this.#jobs.unfinished().map((job) => ({
          id: job.id,
          name: job.spec.name,
          status: this.#store.get(job.id)?.status ?? job.status,
        })),
        // Read from the store by a scheduler never started: still in it, for the next start.
        ...this.#recovered.map(({ snapshot }) => ({
          id: snapshot.id,
          name: snapshot.name,
          status: snapshot.status,
        })),
      ],
    });
    this.#stop = stop;
    // Started once the report is watching: jobs that finish as the workers start count in it.
    if (startFirst) void this.start();
    this.#state = 'stopping';
    this.#draining = drain;
    this.#jobs.asOneEmission(() => {
      for (const job of this.#jobs.roots()) {
        if (keep) this.#jobs.keep(job, drain);
        else this.#jobs.windDown(job, drain);
      }
    });
    stop.begin(timeout);
    return stop.report;
  }

  /** Releases everything; a store that fails its last write is closed too, then this throws. */
  #finish(): void {
    this.#state = 'stopped';
    // Left to the next start(): nothing in this process will settle them any more.
    for (const job of this.#jobs.unfinished()) job.settle(false, new JobKeptError(job.id));
    try {
      if (isDurable(this.#store)) this.#store.close();
    } finally {
      this.#publishMetrics();
      this.#metricsTimer?.unsubscribe();
      this.#pipeline?.unsubscribe();
      this.#metricsSnapshots.complete();
      this.#events.complete();
    }
  }

  #publishMetrics(): void {
    this.#metrics.tick(this.#scheduler.now());
    this.#metricsSnapshots.next(this.#metrics.snapshot());
  }

  #checkIds(spec: JobSpec): void {
    if (spec.id === undefined && spec.children.length === 0) return;
    const seen = new Set<string>();
    const check = (candidate: JobSpec, field: string): void => {
      const { id } = candidate;
      if (id === undefined) return;
      if (seen.has(id)) throw new DuplicateJobIdError(id, field, 'another job of this submission');
      if (this.#jobs.has(id) || this.#store.get(id) !== undefined) {
        throw new DuplicateJobIdError(id, field);
      }
      seen.add(id);
    };
    check(spec, 'id');
    // A batch's children are one-off jobs: no deeper level has ids of its own.
    for (const [index, child] of spec.children.entries()) check(child, `jobs[${index}].id`);
  }

  #checkCapacity(spec: JobSpec): void {
    if (spec.timing.kind !== 'now') return;
    const needed = spec.type === 'batch' ? Math.min(spec.children.length, spec.concurrency) : 1;
    const waiting = this.#jobs.waitingRuns;
    if (waiting + needed > this.#config.queueSize) {
      throw new QueueFullError(this.#config.queueSize, waiting, needed);
    }
  }

  #handle(job: LiveJob, duringSubmit: readonly JobEvent[]): JobHandle {
    return new LiveJobHandle(job, this.#outlet, duringSubmit, () => this.cancelJob(job.id));
  }
}

/** Runs queued work, and the work it queues in turn, until none is left. */
function drainQueue(queue: (() => void)[]): void {
  // Taken one at a time: work may queue more, and what it queues runs after it.
  for (let work = queue.shift(); work !== undefined; work = queue.shift()) work();
}

/**
 * A run's priority for the heap, which with aging orders priority × aging. submitJob keeps that
 * finite; a job recovered from a store written under another config may not, and is held to the
 * largest priority that is, rather than error the whole pipeline. Every priority submitJob
 * accepts passes unchanged.
 */
function runPriority(aging: number): (run: QueuedRun) => number {
  if (aging === 0) return (run) => run.job.spec.priority;
  let largest = Number.MAX_VALUE / aging;
  // The quotient may round up by one step, and its product overflow again.
  if (!Number.isFinite(largest * aging)) largest *= 1 - Number.EPSILON;
  return (run) => {
    const priority = run.job.spec.priority;
    if (Number.isFinite(priority * aging)) return priority;
    return priority > 0 ? largest : -largest;
  };
}
