// collectMetrics on a fresh Registry, scraped over loopback as Prometheus would, against
// getMetrics() of the same scheduler. The workload runs in virtual time, so every number is
// known; only the scrape is real I/O.
import { Gauge, Registry, register } from 'prom-client';
import { map, NEVER, throwError, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type JobInput,
  JobScheduler,
  Priority,
  type SchedulerConfig,
  type SchedulerMetrics,
} from '../../src/index.js';
import { collectMetrics } from '../../src/prometheus.js';
import { type Exposition, scrape, serveMetrics } from '../helpers/exposition.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

function virtualScheduler(config: SchedulerConfig = {}) {
  const testScheduler = new TestScheduler(() => {});
  testScheduler.maxFrames = 1_000_000;
  const scheduler = new JobScheduler({
    maxWorkers: 2,
    metricsInterval: Number.POSITIVE_INFINITY,
    ...config,
    scheduler: testScheduler,
  });
  const work =
    <T>(ms: number, value: T) =>
    () =>
      timer(ms, testScheduler).pipe(map(() => value));
  const failAfter = (ms: number) => () =>
    timer(ms, testScheduler).pipe(
      map(() => {
        throw new Error('boom');
      }),
    );
  return { testScheduler, scheduler, work, failAfter };
}

async function scrapeRegistry(registry: Registry): Promise<Exposition> {
  const server = await serveMetrics(() => registry.metrics(), registry.contentType);
  closers.push(server.close);
  return scrape(server.url);
}

/** Every counter and gauge that has a getMetrics() twin, summed over its labels. */
function expectAgreement(exposition: Exposition, metrics: SchedulerMetrics): void {
  expect({
    submitted: exposition.sum('rxjobs_jobs_submitted_total'),
    completed: exposition.sum('rxjobs_runs_completed_total'),
    failed: exposition.sum('rxjobs_runs_failed_total'),
    retried: exposition.sum('rxjobs_attempts_retried_total'),
    timedOut: exposition.sum('rxjobs_attempts_timed_out_total'),
    skipped: exposition.sum('rxjobs_runs_skipped_total'),
    cancelled: exposition.sum('rxjobs_jobs_cancelled_total'),
    queued: exposition.sum('rxjobs_jobs_queued'),
    running: exposition.value('rxjobs_jobs_running'),
    busy: exposition.value('rxjobs_workers_busy'),
    maxWorkers: exposition.value('rxjobs_workers_max'),
  }).toEqual({
    submitted: metrics.totalJobs,
    completed: metrics.completedJobs,
    failed: metrics.failedJobs,
    retried: metrics.retriedAttempts,
    timedOut: metrics.timedOutAttempts,
    skipped: metrics.skippedRuns,
    cancelled: metrics.cancelledJobs,
    queued: metrics.queuedJobs,
    running: metrics.runningJobs,
    busy: metrics.busyWorkers,
    maxWorkers: metrics.maxWorkers,
  });
}

describe('collectMetrics', () => {
  it('serves counters, gauges and histograms that agree with getMetrics()', async () => {
    const { testScheduler, scheduler, work, failAfter } = virtualScheduler();
    const registry = new Registry();
    collectMetrics(scheduler, { registry });

    // Before start() every run waits, so the queue by priority is known exactly.
    const priorities = [Priority.Low, Priority.Low, Priority.Normal, Priority.High];
    for (const [index, priority] of priorities.entries()) {
      scheduler.submitJob({
        name: `p${priority}`,
        priority,
        handler: work(10 * (index + 1), index),
      });
    }
    const waiting = await scrapeRegistry(registry);
    expect(waiting.types.get('rxjobs_jobs_queued')).toBe('gauge');
    expect(
      ['0', '1', '2', '3'].map((priority) => waiting.value('rxjobs_jobs_queued', { priority })),
    ).toEqual([2, 1, 1, 0]);
    expectAgreement(waiting, scheduler.getMetrics());

    void scheduler.start();
    const inputs: JobInput[] = [
      {
        name: 'flaky',
        handler: (_payload, { attempt }) => (attempt < 3 ? failAfter(5)() : work(5, 'ok')()),
        retryPolicy: { maxAttempts: 3, initialDelay: 10 },
      },
      { name: 'stuck', handler: () => NEVER, timeout: 50, retryPolicy: { maxAttempts: 2 } },
      {
        name: 'broken',
        handler: () => throwError(() => new Error('bad')),
        retryPolicy: { maxAttempts: 1 },
      },
      // Fires every 10 frames, runs for 25: with overlap 'skip', two fires in three are skipped.
      {
        name: 'poll',
        handler: work(25, 'polled'),
        schedule: { type: 'interval', every: 10, maxRuns: 6 },
      },
      {
        name: 'batch',
        jobs: [1, 2, 3].map((n) => ({ name: 'row', handler: work(n, n) })),
        concurrency: 2,
      },
    ];
    for (const input of inputs) scheduler.submitJob(input);
    testScheduler.flush();

    const done = await scrapeRegistry(registry);
    const metrics = scheduler.getMetrics();
    expectAgreement(done, metrics);
    expect(metrics).toMatchObject({ retriedAttempts: 3, timedOutAttempts: 2, failedJobs: 2 });
    expect(metrics.skippedRuns).toBeGreaterThan(0);
    expect(done.value('rxjobs_attempts_retried_total', { name: 'flaky' })).toBe(2);
    expect(done.value('rxjobs_attempts_timed_out_total', { name: 'stuck' })).toBe(2);
    expect(done.value('rxjobs_runs_completed_total', { name: 'row' })).toBe(3);
    expect(done.value('rxjobs_runs_skipped_total', { name: 'poll', reason: 'overlap' })).toBe(
      metrics.skippedRuns,
    );

    // Histograms: one exec observation per finished attempt, one wait per started attempt.
    expect(done.types.get('rxjobs_job_exec_seconds')).toBe('histogram');
    const execCount = done.sum('rxjobs_job_exec_seconds_count');
    expect(done.sum('rxjobs_job_wait_seconds_count')).toBe(execCount + metrics.busyWorkers);
    expect((done.sum('rxjobs_job_exec_seconds_sum') / execCount) * 1000).toBeCloseTo(
      metrics.averageExecTime,
      9,
    );
    expect(done.value('rxjobs_job_exec_seconds_count', { name: 'stuck' })).toBe(2);
    expect(done.value('rxjobs_job_exec_seconds_sum', { name: 'stuck' })).toBeCloseTo(0.1, 9);
    expect(done.value('rxjobs_job_exec_seconds_bucket', { name: 'stuck', le: '0.05' })).toBe(2);
    expect(done.value('rxjobs_job_exec_seconds_bucket', { name: 'stuck', le: '0.025' })).toBe(0);
    await scheduler.stop();
  });

  it('counts a job cancelled with several attempts running once, as getMetrics() does', async () => {
    const { testScheduler, scheduler, work } = virtualScheduler({ maxWorkers: 4 });
    const registry = new Registry();
    collectMetrics(scheduler, { registry });
    void scheduler.start();
    const job = scheduler.submitJob({
      name: 'overlapping',
      handler: work(100, 'slow'),
      overlap: 'allow',
      schedule: { type: 'interval', every: 10 },
    });
    testScheduler.schedule(() => job.cancel(), 35);
    testScheduler.schedule(() => void scheduler.stop(), 40);
    testScheduler.flush();
    const exposition = await scrapeRegistry(registry);
    expect(scheduler.getMetrics().cancelledJobs).toBe(1);
    expect(exposition.value('rxjobs_jobs_cancelled_total', { name: 'overlapping' })).toBe(1);
    expectAgreement(exposition, scheduler.getMetrics());
  });

  it('starts its gauges from the scheduler state when attached late', async () => {
    const { scheduler, work } = virtualScheduler();
    for (const priority of [Priority.Critical, Priority.Low, Priority.Low]) {
      scheduler.submitJob({ name: 'early', priority, handler: work(1, 1) });
    }
    const registry = new Registry();
    collectMetrics(scheduler, { registry });
    const exposition = await scrapeRegistry(registry);
    expect(exposition.value('rxjobs_jobs_queued', { priority: '3' })).toBe(1);
    expect(exposition.value('rxjobs_jobs_queued', { priority: '0' })).toBe(2);
    // Counters count from the call on, as Prometheus counters do.
    expect(exposition.sum('rxjobs_jobs_submitted_total')).toBe(0);
  });

  it('applies `prefix` to every metric name, and checks it', async () => {
    const { scheduler } = virtualScheduler();
    const registry = new Registry();
    collectMetrics(scheduler, { registry, prefix: 'billing_jobs_' });
    const names = registry.getMetricsAsArray().map((metric) => metric.name);
    expect(names).toHaveLength(13);
    expect(names.every((name) => name.startsWith('billing_jobs_'))).toBe(true);
    expect((await scrapeRegistry(registry)).value('billing_jobs_workers_max')).toBe(2);

    expect(() => collectMetrics(scheduler, { registry: new Registry(), prefix: '1x' })).toThrow(
      new TypeError(
        "Expected `prefix` to be a metric name prefix matching [a-zA-Z_:][a-zA-Z0-9_:]*, got `'1x'` (string)",
      ),
    );
  });

  it('rejects a misspelt option, before registering anything', () => {
    const { scheduler } = virtualScheduler();
    const registry = new Registry();
    const global = register.getMetricsAsArray().length;
    expect(() => collectMetrics(scheduler, { regsitry: registry } as never)).toThrow(
      /`regsitry` to be left out: the fields are registry, prefix/,
    );
    expect(register.getMetricsAsArray()).toHaveLength(global);
    expect(registry.getMetricsAsArray()).toHaveLength(0);
  });

  it('rejects what is not a Registry, before registering anything', () => {
    const { scheduler } = virtualScheduler();
    const registry = { registerMetric: 'no' } as unknown as Registry;
    expect(() => collectMetrics(scheduler, { registry })).toThrow(
      new TypeError(
        'Expected `registry` to be a prom-client Registry, got `{"registerMetric":"no"}` (object)',
      ),
    );
  });

  it.each([
    [undefined, /`scheduler` to be a JobScheduler, with `events\$`, got `undefined` \(undefined\)/],
    [{}, /`scheduler` to be a JobScheduler, with `events\$`, got `\{\}` \(object\)/],
    [{ events$: 1, metrics$: 1 }, /with `getMetrics`/],
  ])('rejects %o for the scheduler, before registering anything', (scheduler, message) => {
    const registry = new Registry();
    expect(() => collectMetrics(scheduler as never, { registry })).toThrow(message);
    expect(registry.getMetricsAsArray()).toHaveLength(0);
  });

  it('agrees with the scheduler when called from a subscriber while events wait', async () => {
    const { testScheduler, scheduler, work } = virtualScheduler();
    const registry = new Registry();
    let collected = false;
    scheduler.events$.subscribe((event) => {
      if (event.type !== 'queued' || collected) return;
      collected = true;
      // The cancel's event waits for `queued` to reach everyone: the gauges start after it.
      scheduler.cancelJob(event.jobId);
      collectMetrics(scheduler, { registry });
    });
    void scheduler.start();
    scheduler.submitJob({ name: 'x', handler: work(5, 1) });
    testScheduler.flush();
    const exposition = await scrapeRegistry(registry);
    // Counters count from the call on, and the job was cancelled before it; gauges start right.
    expect(exposition.sum('rxjobs_jobs_cancelled_total')).toBe(0);
    expect(exposition.sum('rxjobs_jobs_queued')).toBe(0);
    expect(exposition.value('rxjobs_jobs_running')).toBe(0);
    expect(exposition.value('rxjobs_workers_busy')).toBe(0);
    expect(scheduler.getMetrics()).toMatchObject({
      cancelledJobs: 1,
      queuedJobs: 0,
      runningJobs: 0,
    });
  });

  it('returns a function that unregisters its metrics', () => {
    const { testScheduler, scheduler, work } = virtualScheduler();
    const registry = new Registry();
    const unregister = collectMetrics(scheduler, { registry });
    expect(registry.getMetricsAsArray()).toHaveLength(13);
    unregister();
    expect(registry.getMetricsAsArray()).toEqual([]);
    // Calling it again is harmless, and the names are free for a new collector.
    unregister();
    collectMetrics(scheduler, { registry });
    void scheduler.start();
    scheduler.submitJob({ name: 'after', handler: work(1, 1) });
    testScheduler.flush();
    expect(registry.getMetricsAsArray()).toHaveLength(13);
  });

  it('leaves the registry as it was when a name is taken', () => {
    const { scheduler } = virtualScheduler();
    const registry = new Registry();
    // Taken by someone else, and registered after the counters, which must be rolled back.
    new Gauge({ name: 'rxjobs_workers_busy', help: 'theirs', registers: [registry] });
    expect(() => collectMetrics(scheduler, { registry })).toThrow(/already been registered/);
    expect(registry.getMetricsAsArray().map((metric) => metric.name)).toEqual([
      'rxjobs_workers_busy',
    ]);
  });
});
