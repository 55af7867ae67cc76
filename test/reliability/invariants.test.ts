import fc from 'fast-check';
import type { Subscription } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../operators/index.js';
import type { JobEvent, JobStatus, SchedulerMetrics, StopReport } from '../../src/index.js';
import { JobScheduler, QueueFullError } from '../../src/index.js';
import { HandlerProbe, toJobInput, type WorkloadPlan, workloadPlan } from './workload.js';

/** Fixed, so CI runs the same workloads every time; set RXJOBS_SEED to replay another. */
const SEED = Number(process.env.RXJOBS_SEED ?? 20_261_128);
const RUNS = Number(process.env.RXJOBS_RUNS ?? 1000);

interface Outcome {
  readonly plan: WorkloadPlan;
  readonly events: readonly JobEvent[];
  readonly metrics: SchedulerMetrics;
  /** Filled in when stop()'s Promise resolves, after the virtual run. */
  readonly stopped: { report?: StopReport };
  readonly accepted: ReadonlySet<string>;
  readonly peakHandlers: number;
  readonly leftoverActions: number | undefined;
  readonly metricsCompleted: boolean;
  /** How many events had been emitted when stop() was called. */
  readonly eventsBeforeStop: number;
}

/** Runs one generated workload to the end in virtual time and returns what it left behind. */
function run(plan: WorkloadPlan): Outcome {
  const testScheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  testScheduler.maxFrames = 1_000_000;
  const probe = new HandlerProbe();
  const events: JobEvent[] = [];
  const accepted = new Set<string>();
  const testActions = new Set<Subscription>();
  const stopped: { report?: StopReport } = {};
  let leftoverActions: number | undefined;
  let metricsCompleted = false;
  let metrics: SchedulerMetrics | undefined;
  let eventsBeforeStop = Number.POSITIVE_INFINITY;
  testScheduler.run(() => {
    const scheduler = new JobScheduler({
      ...plan.config,
      metricsInterval: 100,
      scheduler: testScheduler,
    });
    scheduler.events$.subscribe({
      next: (event) => events.push(event),
      complete: () => {
        // Everything the scheduler armed must be gone once it has stopped.
        leftoverActions = testScheduler.actions.filter(
          (action) => !action.closed && !testActions.has(action),
        ).length;
      },
    });
    scheduler.metrics$.subscribe({ complete: () => (metricsCompleted = true) });
    void scheduler.start();
    const at = (time: number, work: () => void) =>
      testActions.add(testScheduler.schedule(work, time - testScheduler.now()));
    plan.jobs.forEach((job, index) => {
      at(job.submitAt, () => {
        try {
          const handle = scheduler.submitJob(toJobInput(job, index, testScheduler, probe));
          accepted.add(handle.id);
          if (job.cancelAt !== undefined)
            at(Math.max(job.cancelAt, job.submitAt), () => scheduler.cancelJob(handle.id));
        } catch (error) {
          expect((error as Error).name).toMatch(/^(QueueFullError|SchedulerStoppedError)$/);
        }
      });
    });
    at(plan.stopAt, () => {
      eventsBeforeStop = events.length;
      void scheduler.stop({ drain: plan.drain, timeout: plan.stopTimeout }).then((report) => {
        stopped.report = report;
      });
    });
    testScheduler.flush();
    metrics = scheduler.getMetrics();
  });
  return {
    plan,
    events,
    metrics: metrics as unknown as SchedulerMetrics,
    stopped,
    accepted,
    peakHandlers: probe.peak,
    leftoverActions,
    metricsCompleted,
    eventsBeforeStop,
  };
}

/** Every accepted job, children included, ends exactly once, and nothing follows its end. */
function checkEveryJobEndsOnce({ events, accepted }: Outcome): void {
  const known = new Set(accepted);
  for (const event of events)
    if (event.type === 'submitted' && event.job?.parentId !== undefined) known.add(event.jobId);
  const ended = new Set<string>();
  for (const event of events) {
    expect(ended.has(event.jobId), `event after the end of ${event.jobId}: ${event.type}`).toBe(
      false,
    );
    if (event.final) ended.add(event.jobId);
  }
  expect([...known].filter((id) => !ended.has(id))).toEqual([]);
}

function checkWorkerLimit({ plan, events, peakHandlers }: Outcome): void {
  expect(peakHandlers).toBeLessThanOrEqual(plan.config.maxWorkers);
  let busy = 0;
  for (const event of events) {
    if (event.type === 'started') busy += 1;
    if (event.execTime !== undefined) busy -= 1;
    expect(busy).toBeLessThanOrEqual(plan.config.maxWorkers);
  }
}

interface Waiting {
  readonly jobId: string;
  readonly priority: number;
  readonly queuedAt: number;
  readonly order: number;
}

/**
 * Replays the log: each start takes the best waiting run (highest priority, aged when aging is
 * on; FIFO among equals), and at the end of every instant either every worker is busy or
 * nothing waits.
 */
function checkDispatchOrder({ plan, events, eventsBeforeStop }: Outcome): void {
  const { maxWorkers, enablePriority, aging } = plan.config;
  const priorities = new Map<string, number>();
  const waiting = new Map<string, Waiting>();
  let order = 0;
  let busy = 0;
  const stoppedWithoutDrain = (index: number) => !plan.drain && index >= eventsBeforeStop;
  const score = (run: Waiting, now: number) =>
    !enablePriority ? 0 : aging > 0 ? run.priority + (now - run.queuedAt) / aging : run.priority;
  const key = (event: JobEvent) => `${event.jobId}/${event.run}/${event.attempt}`;
  for (const [index, event] of events.entries()) {
    if (event.type === 'submitted') priorities.set(event.jobId, event.job?.priority ?? 0);
    if (event.type === 'queued') {
      waiting.set(key(event), {
        jobId: event.jobId,
        priority: priorities.get(event.jobId) ?? 0,
        queuedAt: event.at,
        order: order++,
      });
    }
    if (event.type === 'started') {
      busy += 1;
      expect(stoppedWithoutDrain(index), 'a run started after stop() without drain').toBe(false);
      const started = waiting.get(key(event));
      expect(started, `started without being queued: ${key(event)}`).toBeDefined();
      if (started !== undefined) {
        for (const other of waiting.values()) {
          if (other === started) continue;
          const better = score(other, event.at) - score(started, event.at);
          const ahead = better > 1e-9 || (Math.abs(better) <= 1e-9 && other.order < started.order);
          expect(
            ahead,
            `${other.jobId} should have started before ${started.jobId} at ${event.at}`,
          ).toBe(false);
        }
      }
      waiting.delete(key(event));
    }
    if (event.execTime !== undefined) busy -= 1;
    if (event.type === 'cancelled') {
      for (const [runKey, run] of waiting) if (run.jobId === event.jobId) waiting.delete(runKey);
    }
    const next = events[index + 1];
    const endOfInstant = next === undefined || next.at !== event.at;
    if (endOfInstant && !stoppedWithoutDrain(index)) {
      expect(
        busy === maxWorkers || waiting.size === 0,
        `idle worker while runs wait at ${event.at}`,
      ).toBe(true);
    }
  }
}

function checkBackoff({ plan, events }: Outcome): void {
  const policy = {
    initialDelay: plan.config.retryDelay,
    maxDelay: Math.max(30_000, plan.config.retryDelay),
    backoffFactor: 2,
  };
  for (const retry of events.filter((event) => event.type === 'retrying')) {
    expect((retry.retryAt ?? 0) - retry.at).toBe(backoffDelay(policy, retry.attempt));
    const next = events.find(
      (event) =>
        event.type === 'started' &&
        event.jobId === retry.jobId &&
        event.run === retry.run &&
        event.attempt === retry.attempt + 1,
    );
    if (next !== undefined) expect(next.at).toBeGreaterThanOrEqual(retry.retryAt ?? 0);
  }
}

/** Each attempt ends as its plan says: on time it fails or succeeds as planned, else it times out. */
function checkAttemptOutcomes({ plan, events }: Outcome): void {
  const planOf = new Map<string, (typeof plan.jobs)[number]>();
  for (const event of events) {
    if (event.type !== 'submitted' || event.job === undefined) continue;
    const index = Number(/^job(\d+)/.exec(event.job.name)?.[1]);
    const jobPlan = plan.jobs[index];
    if (jobPlan !== undefined && event.job.type !== 'batch') planOf.set(event.jobId, jobPlan);
  }
  for (const event of events) {
    if (event.execTime === undefined || event.type === 'cancelled') continue;
    const jobPlan = planOf.get(event.jobId);
    expect(jobPlan, `no plan for ${event.jobId}`).toBeDefined();
    if (jobPlan === undefined) continue;
    const timeout = jobPlan.timeout ?? plan.config.jobTimeout;
    const expected =
      jobPlan.duration > timeout
        ? 'timeout'
        : jobPlan.failures[event.attempt - 1] === true
          ? 'fail'
          : 'ok';
    const actual = event.timedOut === true ? 'timeout' : event.type === 'completed' ? 'ok' : 'fail';
    expect(actual, `attempt ${event.attempt} of ${event.jobId}`).toBe(expected);
    expect(event.execTime).toBe(Math.min(jobPlan.duration, timeout));
  }
}

/** What getMetrics() says must equal a recount from the event log. */
function checkMetricsRecount({ events, metrics }: Outcome): void {
  const count = (predicate: (event: JobEvent) => boolean) => events.filter(predicate).length;
  const status = new Map<string, JobStatus>();
  for (const event of events) status.set(event.jobId, event.status);
  const inStatus = (wanted: JobStatus) =>
    [...status.values()].filter((value) => value === wanted).length;
  const attempts = events.filter((event) => event.execTime !== undefined);
  expect(metrics).toMatchObject({
    totalJobs: count((event) => event.type === 'submitted'),
    completedJobs: count((event) => event.type === 'completed'),
    failedJobs: count((event) => event.type === 'failed'),
    // A job with several attempts running emits one 'cancelled' per attempt; only the last ends it.
    cancelledJobs: count((event) => event.type === 'cancelled' && event.final),
    retriedAttempts: count((event) => event.type === 'retrying'),
    timedOutAttempts: count((event) => event.timedOut === true),
    skippedRuns: count((event) => event.type === 'skipped'),
    busyWorkers: count((event) => event.type === 'started') - attempts.length,
    queuedJobs: inStatus('queued'),
    runningJobs: inStatus('running'),
    pendingJobs: inStatus('pending'),
    retryingJobs: inStatus('retrying'),
  });
  const total = attempts.reduce((sum, event) => sum + (event.execTime ?? 0), 0);
  expect(metrics.averageExecTime).toBeCloseTo(
    attempts.length === 0 ? 0 : total / attempts.length,
    9,
  );
}

/** After stop() no scheduled action remains, and both streams have completed. */
function checkStopped({ leftoverActions, metricsCompleted }: Outcome): void {
  expect(leftoverActions, 'events$ did not complete, or timers were left behind').toBe(0);
  expect(metricsCompleted).toBe(true);
}

/** The stop report lists only jobs that did end cancelled. */
function checkReport({ stopped: { report }, events }: Outcome): void {
  expect(report).toBeDefined();
  const cancelledAtEnd = new Set(
    events.filter((event) => event.final && event.type === 'cancelled').map((event) => event.jobId),
  );
  for (const job of report?.cancelled ?? []) expect(cancelledAtEnd.has(job.id)).toBe(true);
}

describe('JobScheduler invariants under random workloads', () => {
  it(`holds over ${RUNS} generated workloads (seed ${SEED})`, async () => {
    const outcomes: Outcome[] = [];
    fc.assert(
      fc.property(workloadPlan, (plan) => {
        outcomes.push(run(plan));
        const outcome = outcomes[outcomes.length - 1] as Outcome;
        checkEveryJobEndsOnce(outcome);
        checkWorkerLimit(outcome);
        checkDispatchOrder(outcome);
        checkBackoff(outcome);
        checkAttemptOutcomes(outcome);
        checkMetricsRecount(outcome);
        checkStopped(outcome);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // The stop reports arrive through Promises, after the virtual runs.
    await new Promise((resolve) => setImmediate(resolve));
    for (const outcome of outcomes) checkReport(outcome);
    // The generator must reach the cases that matter, or the checks above prove little.
    const all = outcomes.flatMap((outcome) => outcome.events);
    for (const type of ['retrying', 'skipped', 'cancelled', 'failed', 'completed'] as const) {
      expect(
        all.some((event) => event.type === type),
        `no '${type}' event was generated`,
      ).toBe(true);
    }
    expect(all.some((event) => event.timedOut === true)).toBe(true);
    expect(
      outcomes.some((outcome) =>
        outcome.stopped.report?.cancelled.some((job) => job.previous === 'running'),
      ),
    ).toBe(true);
  }, 240_000);

  it('names the error of a full queue', () => {
    expect(new QueueFullError(3, 2, 2).message).toMatch(
      /2 of 3 runs \(queueSize\) wait, and the job needs room for 2/,
    );
  });
});
