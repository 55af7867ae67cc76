import {
  Counter,
  Gauge,
  Histogram,
  type Metric,
  type Registry,
  type RegistryContentType,
  register,
} from 'prom-client';
import type { Subscription } from 'rxjs';
import { assertOptions, expectedMessage } from '../operators/validate.js';
import type { JobScheduler } from './jobScheduler.js';
import { type JobEvent, type JobStatus, Priority } from './types.js';

/** What `collectMetrics` reads from a scheduler: its two streams and its queries. */
export type MetricsSource = Pick<
  JobScheduler,
  'events$' | 'metrics$' | 'getMetrics' | 'listJobs' | 'getJobStatus'
>;

export interface CollectMetricsOptions {
  /** Where the metrics are registered. Default: prom-client's global `register`. */
  readonly registry?: Registry<RegistryContentType>;
  /** Put before every metric name. Default `'rxjobs_'`. */
  readonly prefix?: string;
}

/** Takes the metrics out of the registry and stops following the scheduler. Safe to call twice. */
export type UnregisterMetrics = () => void;

// Job latencies run from milliseconds to the default 30 s timeout and beyond.
const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const METRIC_PREFIX = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const ENDED: ReadonlySet<JobStatus> = new Set(['completed', 'failed', 'cancelled']);

const COLLECT_OPTIONS: ReadonlySet<string> = new Set<keyof CollectMetricsOptions>([
  'registry',
  'prefix',
]);

const SOURCE_MEMBERS = ['events$', 'metrics$', 'getMetrics', 'listJobs', 'getJobStatus'] as const;

/** Checked at once, so that a wrong argument is named here, not met as a crash later. */
function assertMetricsSource(scheduler: unknown): asserts scheduler is MetricsSource {
  const missing =
    typeof scheduler === 'object' && scheduler !== null
      ? SOURCE_MEMBERS.find((member) => !(member in scheduler))
      : SOURCE_MEMBERS[0];
  if (missing !== undefined) {
    throw new TypeError(
      expectedMessage('scheduler', `a JobScheduler, with \`${missing}\``, scheduler),
    );
  }
}

/**
 * Registers prom-client metrics for a scheduler and keeps them current from its `events$` and
 * `metrics$`. Counters (labelled by job `name`): `jobs_submitted_total`, `runs_completed_total`,
 * `runs_failed_total`, `attempts_retried_total`, `attempts_timed_out_total`,
 * `runs_skipped_total` (also by `reason`) and `jobs_cancelled_total`; they count from the call
 * on, as counters do. Gauges: `jobs_queued` by `priority`, `jobs_running`, `workers_busy` and
 * `workers_max`, which start from the scheduler's state at the call. Histograms, by `name`:
 * `job_exec_seconds` per finished attempt and `job_wait_seconds` per started one. Memory stays
 * bounded: it remembers only the name and priority of jobs that have not ended.
 *
 * prom-client is a peer dependency, imported by `rxjobs/prometheus` only.
 *
 * @example
 * ```ts
 * import { Registry } from 'prom-client';
 * import { collectMetrics } from 'rxjobs/prometheus';
 *
 * const registry = new Registry();
 * const unregister = collectMetrics(scheduler, { registry, prefix: 'billing_' });
 * // GET /metrics: respond with `await registry.metrics()` and `registry.contentType`.
 * unregister(); // when the scheduler is retired
 * ```
 */
export function collectMetrics(
  scheduler: MetricsSource,
  options: CollectMetricsOptions = {},
): UnregisterMetrics {
  assertMetricsSource(scheduler);
  assertOptions(options, COLLECT_OPTIONS);
  const { registry = register, prefix = 'rxjobs_' } = options;
  if (typeof prefix !== 'string' || (prefix !== '' && !METRIC_PREFIX.test(prefix))) {
    throw new TypeError(
      expectedMessage('prefix', 'a metric name prefix matching [a-zA-Z_:][a-zA-Z0-9_:]*', prefix),
    );
  }
  if (typeof registry?.registerMetric !== 'function') {
    throw new TypeError(expectedMessage('registry', 'a prom-client Registry', registry));
  }

  // The scheduler's state now, read before anything is registered: gauges start from it.
  // Only jobs that have not ended are remembered, so memory is bounded by the live jobs.
  const jobs = new Map<string, { readonly name: string; readonly priority: number }>();
  const queuedByPriority = new Map<number, number>(Object.values(Priority).map((p) => [p, 0]));
  for (const job of scheduler.listJobs()) {
    if (ENDED.has(job.status)) continue;
    jobs.set(job.id, { name: job.name, priority: job.priority });
    if (job.status === 'queued') {
      queuedByPriority.set(job.priority, (queuedByPriority.get(job.priority) ?? 0) + 1);
    }
  }
  const initial = scheduler.getMetrics();
  let runningJobs = initial.runningJobs;
  let busy = initial.busyWorkers;

  // Made unregistered, then added one by one, so that a name clash leaves the registry as it was.
  const owned: [name: string, metric: Metric][] = [];
  const own = <M extends Metric>(name: string, make: (fullName: string) => M): M => {
    const metric = make(prefix + name);
    owned.push([prefix + name, metric]);
    return metric;
  };
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    own(name, (fullName) => new Counter({ name: fullName, help, labelNames, registers: [] }));
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    own(name, (fullName) => new Gauge({ name: fullName, help, labelNames, registers: [] }));
  const histogram = (name: string, help: string) =>
    own(
      name,
      (fullName) =>
        new Histogram({
          name: fullName,
          help,
          labelNames: ['name'] as const,
          buckets: SECONDS_BUCKETS,
          registers: [],
        }),
    );

  const byName = ['name'] as const;
  const submitted = counter(
    'jobs_submitted_total',
    'Jobs accepted, batch children included.',
    byName,
  );
  const completed = counter(
    'runs_completed_total',
    'Runs that completed; a cron or recurring job counts each of its runs.',
    byName,
  );
  const failed = counter('runs_failed_total', 'Runs that failed after their last attempt.', byName);
  const retried = counter('attempts_retried_total', 'Failed attempts that were retried.', byName);
  const timedOut = counter('attempts_timed_out_total', 'Attempts that hit their timeout.', byName);
  const skipped = counter(
    'runs_skipped_total',
    'Fires of cron and recurring jobs that did not run, by reason.',
    ['name', 'reason'] as const,
  );
  const cancelled = counter('jobs_cancelled_total', 'Jobs that ended cancelled.', byName);
  const queued = gauge('jobs_queued', 'Jobs waiting for a worker, by priority.', [
    'priority',
  ] as const);
  const running = gauge('jobs_running', 'Jobs with a run in progress.');
  const busyWorkers = gauge('workers_busy', 'Handlers running now.');
  const maxWorkers = gauge('workers_max', 'Handlers that may run at once.');
  const execSeconds = histogram('job_exec_seconds', 'How long each finished attempt ran.');
  const waitSeconds = histogram('job_wait_seconds', 'How long each attempt waited for a worker.');

  const registered: string[] = [];
  try {
    for (const [name, metric] of owned) {
      registry.registerMetric(metric);
      registered.push(name);
    }
  } catch (error) {
    for (const name of registered) registry.removeSingleMetric(name);
    throw error;
  }
  for (const [priority, count] of queuedByPriority) {
    queued.set({ priority: String(priority) }, count);
  }
  running.set(runningJobs);
  busyWorkers.set(busy);
  maxWorkers.set(initial.maxWorkers);

  const jobOf = (event: JobEvent) => {
    const known = jobs.get(event.jobId);
    if (known !== undefined) return known;
    const snapshot = event.job ?? scheduler.getJobStatus(event.jobId);
    const job = { name: snapshot?.name ?? '', priority: snapshot?.priority ?? event.priority ?? 0 };
    if (!event.final) jobs.set(event.jobId, job);
    return job;
  };
  const moveQueued = (priority: number, by: number) => {
    const count = (queuedByPriority.get(priority) ?? 0) + by;
    queuedByPriority.set(priority, count);
    queued.set({ priority: String(priority) }, count);
  };

  const onEvent = (event: JobEvent): void => {
    const job = jobOf(event);
    const labels = { name: job.name };
    // Gauges move as the scheduler's own fold does: out of `previous`, into `status`.
    if (event.previous === 'queued') moveQueued(job.priority, -1);
    if (event.status === 'queued') moveQueued(job.priority, 1);
    runningJobs += Number(event.status === 'running') - Number(event.previous === 'running');
    if (event.execTime !== undefined) {
      busy -= 1;
      execSeconds.observe(labels, Math.max(0, event.execTime) / 1000);
    }
    if (event.timedOut === true) timedOut.inc(labels);
    switch (event.type) {
      case 'submitted':
        submitted.inc(labels);
        break;
      case 'started':
        busy += 1;
        waitSeconds.observe(labels, Math.max(0, event.waitTime) / 1000);
        break;
      case 'retrying':
        retried.inc(labels);
        break;
      case 'completed':
        completed.inc(labels);
        break;
      case 'failed':
        failed.inc(labels);
        break;
      case 'cancelled':
        if (event.final) cancelled.inc(labels);
        break;
      case 'skipped':
        skipped.inc({ ...labels, reason: event.reason });
        break;
      default:
        break;
    }
    running.set(runningJobs);
    busyWorkers.set(busy);
    if (event.final) jobs.delete(event.jobId);
  };

  const subscriptions: Subscription[] = [
    scheduler.events$.subscribe(onEvent),
    // Each snapshot re-anchors the gauges the scheduler itself counts.
    scheduler.metrics$.subscribe((snapshot) => {
      runningJobs = snapshot.runningJobs;
      busy = snapshot.busyWorkers;
      running.set(runningJobs);
      busyWorkers.set(busy);
      maxWorkers.set(snapshot.maxWorkers);
    }),
  ];

  let unregistered = false;
  return () => {
    if (unregistered) return;
    unregistered = true;
    for (const subscription of subscriptions) subscription.unsubscribe();
    jobs.clear();
    for (const [name, metric] of owned) {
      // Only our own: the name may have been removed and taken by another metric since.
      if (registry.getSingleMetric(name) === metric) registry.removeSingleMetric(name);
    }
  };
}
