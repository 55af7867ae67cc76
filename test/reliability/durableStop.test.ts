import fc from 'fast-check';
import { map, timer } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { JobEvent, JobInput, JobScheduler, StopReport } from '../../src/index.js';
import { lifetime, tempDbPath } from '../store/durableHarness.js';
import type { JobPlan as WorkloadJob } from './workload.js';

/** Fixed, so CI runs the same workloads every time; set RXJOBS_SEED to replay another. */
const SEED = Number(process.env.RXJOBS_SEED ?? 4242);
const RUNS = Number(process.env.RXJOBS_DURABLE_RUNS ?? 200);
/** Set to one plan's index to replay it alone. */
const ONLY = process.env.RXJOBS_PLAN === undefined ? undefined : Number(process.env.RXJOBS_PLAN);
const EPOCH = Date.UTC(2026, 10, 28, 12, 0, 0);

interface JobPlan extends WorkloadJob {
  readonly missedRuns: 'skip' | 'once';
}

const jobPlan: fc.Arbitrary<JobPlan> = fc.record({
  submitAt: fc.integer({ min: 0, max: 400 }),
  kind: fc.constantFrom('immediate', 'immediate', 'scheduled', 'recurring', 'cron', 'batch'),
  priority: fc.integer({ min: 0, max: 3 }),
  // A multiple of 3 runs synchronously when the plan's `sync` is on.
  duration: fc.integer({ min: 0, max: 80 }),
  failures: fc.array(fc.boolean(), { maxLength: 3 }),
  timeout: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
  cancelAt: fc.option(fc.integer({ min: 0, max: 900 }), { nil: undefined }),
  overlap: fc.constantFrom('skip', 'queue', 'allow'),
  missedRuns: fc.constantFrom('skip', 'once'),
});

const stopPlan = fc.record({
  config: fc.record({
    maxWorkers: fc.integer({ min: 1, max: 3 }),
    queueSize: fc.integer({ min: 2, max: 30 }),
    retryAttempts: fc.integer({ min: 1, max: 3 }),
    retryDelay: fc.integer({ min: 0, max: 60 }),
    jobTimeout: fc.integer({ min: 20, max: 200 }),
  }),
  jobs: fc.array(jobPlan, { minLength: 1, maxLength: 15 }),
  stopAt: fc.integer({ min: 0, max: 700 }),
  drain: fc.boolean(),
  stopTimeout: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.constant(Number.POSITIVE_INFINITY)),
  /** Stop from a subscriber, on the nth event, rather than at `stopAt`. */
  stopOnEvent: fc.option(fc.integer({ min: 0, max: 80 }), { nil: undefined }),
  sync: fc.boolean(),
});
type StopPlan = typeof stopPlan extends fc.Arbitrary<infer P> ? P : never;

function toInput(job: JobPlan, index: number): JobInput {
  const base = {
    name: 'work',
    priority: job.priority,
    payload: { duration: job.duration, failures: job.failures },
    ...(job.timeout === undefined ? {} : { timeout: job.timeout }),
  };
  const repeating = { ...base, overlap: job.overlap, missedRuns: job.missedRuns };
  switch (job.kind) {
    case 'immediate':
      return base;
    case 'scheduled':
      return {
        ...base,
        schedule: { type: 'once', startTime: EPOCH + job.submitAt + job.duration * 2 },
      };
    case 'recurring':
      return {
        ...repeating,
        schedule: { type: 'interval', every: 40 + job.duration, maxRuns: 3 },
      };
    case 'cron':
      return { ...repeating, schedule: { type: 'cron', cronExpr: '* * * * * *' } };
    case 'batch':
      return {
        name: `batch${index}`,
        priority: job.priority,
        concurrency: 2,
        jobs: [0, 1, 2].map(() => ({ ...base })),
      };
  }
}

/** The one handler, by name, as a durable store needs: it takes `duration`, and fails per plan. */
function defineWork(scheduler: JobScheduler, testScheduler: TestScheduler, sync: boolean): void {
  scheduler.define(
    'work',
    ({ duration, failures }: { duration: number; failures: boolean[] }, { attempt }) => {
      const outcome = () => {
        if (failures[attempt - 1] === true) throw new Error(`attempt ${attempt} fails`);
        return duration;
      };
      if (sync && duration % 3 === 0) return outcome();
      return timer(duration, testScheduler).pipe(map(outcome));
    },
  );
}

const finalCounts = (events: readonly JobEvent[]) => {
  const counts = new Map<string, number>();
  for (const event of events) {
    if (event.final) counts.set(event.jobId, (counts.get(event.jobId) ?? 0) + 1);
  }
  return counts;
};

/** One life stopped as planned, then a second that runs what the first kept to its end. */
async function stopAndRestart(plan: StopPlan): Promise<void> {
  const path = tempDbPath();
  const firstEvents: JobEvent[] = [];
  const submitted = new Set<string>();
  const cronIds: string[] = [];
  const recurringIds: string[] = [];
  let report: Promise<StopReport> | undefined;
  lifetime(
    path,
    plan.config,
    EPOCH,
    200_000,
    ({ scheduler, testScheduler }) => {
      defineWork(scheduler, testScheduler, plan.sync);
      const stop = () => scheduler.stop({ drain: plan.drain, timeout: plan.stopTimeout });
      scheduler.events$.subscribe((event) => {
        firstEvents.push(event);
        if (event.type === 'submitted') submitted.add(event.jobId);
        if (firstEvents.length === (plan.stopOnEvent ?? -1) + 1) report = stop();
      });
      void scheduler.start();
      plan.jobs.forEach((job, index) => {
        testScheduler.schedule(() => {
          try {
            const { id } = scheduler.submitJob(toInput(job, index));
            if (job.kind === 'cron') cronIds.push(id);
            // The store keeps one run per job: with overlap 'allow', a stop keeps one of several
            // runs under way (the README says so), so only the others are checked.
            if (job.kind === 'recurring' && job.overlap !== 'allow') recurringIds.push(id);
            if (job.cancelAt !== undefined) {
              const delay = Math.max(0, job.cancelAt - job.submitAt);
              testScheduler.schedule(() => scheduler.cancelJob(id), delay);
            }
          } catch (error) {
            expect((error as Error).name).toMatch(/^(QueueFullError|SchedulerStoppedError)$/);
          }
        }, job.submitAt);
      });
      // A second stop() gets the first one's report.
      testScheduler.schedule(() => {
        report ??= stop();
      }, plan.stopAt);
    },
    { defineHandlers: false },
  );
  let stopped: StopReport | undefined;
  void report?.then((value) => {
    stopped = value;
  });
  // The first life ran its virtual time out: a stop that has not finished by now never will.
  await Promise.resolve();
  await Promise.resolve();
  expect(stopped, 'stop() resolved').toBeDefined();
  const { kept } = stopped as StopReport;
  const firstFinals = finalCounts(firstEvents);
  const keptIds = new Set(kept.map((job) => job.id));
  const ended = new Set<string>();
  for (const event of firstEvents) {
    expect(ended.has(event.jobId), `an event after the end of ${event.jobId}`).toBe(false);
    if (event.final) ended.add(event.jobId);
  }
  for (const id of submitted) {
    // Each job either ended in the first life, once, or was kept for the second: not both.
    expect(firstFinals.get(id) ?? 0, `final events of ${id}`).toBe(keptIds.has(id) ? 0 : 1);
  }

  const secondEvents: JobEvent[] = [];
  const second = lifetime(
    path,
    plan.config,
    EPOCH + 1_000_000,
    200_000,
    ({ scheduler, testScheduler }) => {
      defineWork(scheduler, testScheduler, plan.sync);
      scheduler.events$.subscribe((event) => secondEvents.push(event));
      void scheduler.start();
      // Cron jobs never end of themselves.
      testScheduler.schedule(() => {
        for (const id of cronIds) scheduler.cancelJob(id);
      }, 5000);
    },
    { defineHandlers: false },
  );
  const secondFinals = finalCounts(secondEvents);
  for (const id of submitted) {
    const total = (firstFinals.get(id) ?? 0) + (secondFinals.get(id) ?? 0);
    expect(total, `final events of ${id} in both lives`).toBe(1);
  }
  for (const event of secondEvents) expect(submitted.has(event.jobId)).toBe(true);
  const allEvents = [...firstEvents, ...secondEvents];
  /** A job's story, for a failure to show: `type#run.attempt`, life by life. */
  const story = (id: string) =>
    [firstEvents, secondEvents]
      .map((events) =>
        events
          .filter((event) => event.jobId === id)
          .map((event) => `${event.type}#${event.run}.${event.attempt}`)
          .join(' '),
      )
      .join(' | ');
  const completions = new Map<string, number>();
  for (const event of allEvents) {
    if (event.type !== 'completed') continue;
    const key = `${event.jobId}#${event.run}`;
    completions.set(key, (completions.get(key) ?? 0) + 1);
  }
  for (const [key, count] of completions) {
    expect(count, `completions of ${key}: ${story(key.split('#')[0] as string)}`).toBe(1);
  }
  // A recurring job that ran out its maxRuns (not cancelled) had an outcome for each run.
  for (const id of recurringIds) {
    const events = allEvents.filter((event) => event.jobId === id);
    if (events.at(-1)?.type === 'cancelled') continue;
    const outcomes = new Set(
      events
        .filter((event) => ['completed', 'failed', 'skipped'].includes(event.type))
        .map((event) => event.run),
    );
    expect([...outcomes].sort(), `runs with an outcome: ${story(id)}`).toEqual([1, 2, 3]);
  }
  const unfinished = second.scheduler
    .listJobs()
    .filter((job) => !['completed', 'failed', 'cancelled'].includes(job.status));
  expect(unfinished).toEqual([]);
}

describe('stop() and a restart on a durable store, over random workloads', () => {
  it('ends every job once across both lives, and completes no run twice', async () => {
    // Run one by one: each plan opens its own database, and a failure names its plan.
    for (const [index, plan] of fc.sample(stopPlan, { seed: SEED, numRuns: RUNS }).entries()) {
      if (ONLY !== undefined && index !== ONLY) continue;
      try {
        await stopAndRestart(plan);
      } catch (error) {
        throw new Error(`plan ${index} of seed ${SEED}: ${JSON.stringify(plan)}`, {
          cause: error,
        });
      }
    }
  }, 120_000);
});
