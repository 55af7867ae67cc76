import { map, throwError, timer } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { SchedulerMetrics, StopReport } from '../../src/index.js';
import { JobCancelledError, SchedulerStoppedError } from '../../src/index.js';
import { inVirtualTime, only } from '../helpers/virtualTime.js';

describe('JobScheduler.stop', () => {
  it('without drain: cancels queued and waiting jobs, lets running ones finish', async () => {
    let report: Promise<StopReport> | undefined;
    inVirtualTime({ maxWorkers: 1 }, ({ scheduler, log, work, testScheduler, flush }) => {
      void scheduler.start();
      scheduler.submitJob({ name: 'running', handler: work(100, 1) });
      scheduler.submitJob({ name: 'queued', handler: work(10, 2) });
      scheduler.submitJob({
        name: 'later',
        schedule: { type: 'once', startTime: 10_000 },
        handler: work(1, 3),
      });
      scheduler.submitJob({
        name: 'cron',
        schedule: { type: 'cron', cronExpr: '0 * * * *' },
        handler: work(1, 4),
      });
      testScheduler.schedule(() => {
        report = scheduler.stop();
      }, 50);
      flush();
      expect(only(log, 'completed')).toEqual(['100:running']);
      expect(only(log, 'started')).toEqual(['0:running']);
      expect(testScheduler.now()).toBe(100);
    });
    const { cancelled, finishedDuringStop } = (await report) as StopReport;
    expect(cancelled.map((job) => [job.name, job.previous])).toEqual([
      ['queued', 'queued'],
      ['later', 'pending'],
      ['cron', 'pending'],
    ]);
    expect(finishedDuringStop).toBe(1);
  });

  it('with drain: runs every queued job first', () => {
    inVirtualTime({ maxWorkers: 1 }, ({ scheduler, log, work, flush }) => {
      void scheduler.start();
      for (const name of ['a', 'b', 'c']) scheduler.submitJob({ name, handler: work(10, name) });
      void scheduler.stop({ drain: true });
      flush();
      expect(only(log, 'completed')).toEqual(['10:a', '20:b', '30:c']);
    });
  });

  it("with drain: treats a batch's children as it treats single jobs", () => {
    inVirtualTime({ maxWorkers: 4 }, ({ scheduler, log, work, testScheduler, flush }) => {
      void scheduler.start();
      const failOnce = (_payload: unknown, { attempt }: { attempt: number }) =>
        attempt === 1
          ? timer(5, testScheduler).pipe(
              map(() => {
                throw new Error('first attempt fails');
              }),
            )
          : work(5, 'ok')();
      const retryPolicy = { maxAttempts: 3, initialDelay: 1000 };
      scheduler.submitJob({ id: 'solo', name: 'solo', handler: failOnce, retryPolicy });
      const batch = scheduler.submitJob({
        id: 'batch',
        name: 'batch',
        concurrency: 2,
        jobs: [
          { id: 'retrying', name: 'retrying', handler: failOnce, retryPolicy },
          { id: 'running', name: 'running', handler: work(20, 'done') },
          { id: 'unfed', name: 'unfed', handler: work(1, 'never') },
        ],
      });
      batch.result.catch(() => {});
      testScheduler.schedule(() => void scheduler.stop({ drain: true, timeout: 5000 }), 10);
      flush();
      // A backoff waits on time and a child not fed yet waits its turn: neither is queued, so
      // both end at once, as the single job's backoff does; the running child finishes.
      expect(only(log, 'cancelled')).toEqual(['10:solo', '10:retrying', '10:unfed']);
      expect(only(log, 'completed')).toEqual(['20:running']);
      expect(only(log, 'failed')).toEqual(['20:batch']);
      expect(testScheduler.now()).toBe(20);
    });
  });

  it.each([true, false])(
    'with drain %s: settles a batch whose in-flight child ends before its unfed one',
    (drain) => {
      inVirtualTime({ maxWorkers: 4 }, ({ scheduler, log, work, testScheduler, flush }) => {
        void scheduler.start();
        const batch = scheduler.submitJob({
          id: 'batch',
          name: 'batch',
          concurrency: 1,
          jobs: [
            {
              id: 'a',
              name: 'a',
              handler: () => throwError(() => new Error('first attempt fails')),
              retryPolicy: { maxAttempts: 3, initialDelay: 1000 },
            },
            { id: 'b', name: 'b', handler: work(5, 'b') },
          ],
        });
        batch.result.catch(() => {});
        testScheduler.schedule(() => void scheduler.stop({ drain, timeout: 5000 }), 10);
        flush();
        // The stop resolves at once: it does not wait out its timeout for the batch.
        expect(only(log, 'failed')).toEqual(['10:batch']);
        expect(testScheduler.now()).toBe(10);
      });
    },
  );

  it('aborts running jobs when the timeout passes and reports them cancelled', async () => {
    let report: Promise<StopReport> | undefined;
    let reason: unknown;
    inVirtualTime({ maxWorkers: 1 }, ({ scheduler, testScheduler, flush }) => {
      void scheduler.start();
      scheduler.submitJob({
        name: 'stubborn',
        handler: (_payload, { signal }) => {
          signal.addEventListener('abort', () => {
            reason = signal.reason;
          });
          return testScheduler.createColdObservable('10s a|');
        },
      });
      report = scheduler.stop({ timeout: 200 });
      flush();
      expect(testScheduler.now()).toBe(200);
    });
    expect(reason).toBeInstanceOf(JobCancelledError);
    expect((await report)?.cancelled.map((job) => [job.name, job.previous])).toEqual([
      ['stubborn', 'running'],
    ]);
  });

  it.each([
    { drain: false, busyUntil: 0, cronRun: ['1000:started', '1050:completed'] },
    // With drain, its run queued behind another job's still runs.
    { drain: true, busyUntil: 1040, cronRun: ['1040:started', '1090:completed'] },
  ])(
    "drain $drain: lets a cron job's run in flight finish, then cancels the job, as an idle one",
    async ({ drain, busyUntil, cronRun }) => {
      let report: Promise<StopReport> | undefined;
      let result: Promise<unknown> | undefined;
      const cronEvents: string[] = [];
      inVirtualTime({ maxWorkers: 1 }, ({ scheduler, work, testScheduler, flush }) => {
        void scheduler.start();
        const cron = scheduler.submitJob({
          name: 'cron',
          schedule: { type: 'cron', cronExpr: '* * * * * *' },
          handler: work(50, 'ran'),
        });
        result = cron.result;
        result.catch(() => {});
        cron.events$.subscribe((event) =>
          cronEvents.push(`${event.at}:${event.type}${event.final ? ':final' : ''}`),
        );
        if (busyUntil > 0) {
          testScheduler.schedule(() => {
            scheduler.submitJob({ name: 'other', handler: work(busyUntil - 990, 'other') });
          }, 990);
        }
        testScheduler.schedule(() => {
          report = scheduler.stop({ drain });
        }, 1010);
        flush();
      });
      const cronEnd = cronRun.at(-1)?.split(':')[0];
      expect(cronEvents).toEqual([
        '0:submitted',
        '1000:queued',
        ...cronRun,
        `${cronEnd}:cancelled:final`,
      ]);
      await expect(result).rejects.toThrow(JobCancelledError);
      await expect(result).rejects.toThrow(/stop\(\) was called/);
      const { cancelled } = (await report) as StopReport;
      expect(cancelled.map((job) => [job.name, job.previous])).toEqual([['cron', 'pending']]);
    },
  );

  it.each([
    { overlap: 'allow', drain: false, ends: 'cancelled' },
    { overlap: 'queue', drain: false, ends: 'cancelled' },
    // A held run waits on time, so even a drain drops it.
    { overlap: 'queue', drain: true, ends: 'cancelled' },
    // Its last run is queued, and a drain runs it: nothing of the schedule is dropped.
    { overlap: 'allow', drain: true, ends: 'completed' },
  ] as const)(
    'overlap $overlap, drain $drain: ends a job whose last run the stop drops $ends',
    async ({ overlap, drain, ends }) => {
      let result: Promise<unknown> | undefined;
      inVirtualTime({ maxWorkers: 1 }, ({ scheduler, work, testScheduler, flush }) => {
        void scheduler.start();
        result = scheduler.submitJob({
          name: 'twice',
          overlap,
          schedule: { type: 'interval', every: 100, maxRuns: 2 },
          handler: work(150, 'done'),
        }).result;
        result.catch(() => {});
        // Run 1 runs from 100 to 250; run 2 fired at 200 and waits behind it.
        testScheduler.schedule(() => void scheduler.stop({ drain }), 220);
        flush();
      });
      if (ends === 'completed') await expect(result).resolves.toBe('done');
      else await expect(result).rejects.toThrow(/stop\(\) was called/);
    },
  );

  it('lets a recurring job whose last run is in flight at the stop complete', async () => {
    let report: Promise<StopReport> | undefined;
    let result: Promise<unknown> | undefined;
    inVirtualTime({ maxWorkers: 1 }, ({ scheduler, work, testScheduler, flush }) => {
      void scheduler.start();
      result = scheduler.submitJob({
        name: 'twice',
        schedule: { type: 'interval', every: 100, maxRuns: 2 },
        handler: work(50, 'last'),
      }).result;
      testScheduler.schedule(() => {
        report = scheduler.stop();
      }, 210);
      flush();
    });
    await expect(result).resolves.toBe('last');
    expect(await report).toEqual({ cancelled: [], kept: [], finishedDuringStop: 1 });
  });

  it('with drain, at the deadline: starts none of the queued jobs it cancels', async () => {
    let report: Promise<StopReport> | undefined;
    const invoked: string[] = [];
    inVirtualTime({ maxWorkers: 1 }, ({ scheduler, log, testScheduler, flush }) => {
      void scheduler.start();
      scheduler.submitJob({
        name: 'slow',
        handler: () => testScheduler.createColdObservable('1s a|'),
      });
      for (const name of ['b', 'c']) {
        scheduler.submitJob({ name, handler: () => invoked.push(name) });
      }
      report = scheduler.stop({ drain: true, timeout: 10 });
      flush();
      expect(only(log, 'started')).toEqual(['0:slow']);
    });
    expect(invoked).toEqual([]);
    expect((await report)?.cancelled.map((job) => [job.name, job.previous])).toEqual([
      ['slow', 'running'],
      ['b', 'queued'],
      ['c', 'queued'],
    ]);
  });

  it('completes events$ and metrics$ with a final snapshot, and leaves no timer', () => {
    inVirtualTime({ metricsInterval: 1000 }, ({ scheduler, work, testScheduler, flush }) => {
      const snapshots: [number, SchedulerMetrics][] = [];
      let eventsDone = false;
      let metricsDone = false;
      scheduler.events$.subscribe({ complete: () => (eventsDone = true) });
      scheduler.metrics$.subscribe({
        next: (metrics) => snapshots.push([testScheduler.now(), metrics]),
        complete: () => (metricsDone = true),
      });
      void scheduler.start();
      scheduler.submitJob({ name: 'job', handler: work(2500, 1) });
      testScheduler.schedule(() => void scheduler.stop({ drain: true }), 2600);
      flush();
      expect(snapshots.map(([at, metrics]) => [at, metrics.completedJobs])).toEqual([
        [1000, 0],
        [2000, 0],
        [2600, 1],
      ]);
      expect(eventsDone && metricsDone).toBe(true);
      expect(testScheduler.actions).toHaveLength(0);
      expect(testScheduler.now()).toBe(2600);
    });
  });

  it('refuses submissions after stop with SchedulerStoppedError', () => {
    inVirtualTime({}, ({ scheduler, work }) => {
      void scheduler.stop();
      expect(() => scheduler.submitJob({ name: 'late', handler: work(1, 1) })).toThrow(
        SchedulerStoppedError,
      );
      expect(scheduler.listJobs()).toEqual([]);
    });
  });

  it('returns the same report to every caller', () => {
    inVirtualTime({}, ({ scheduler }) => {
      const first = scheduler.stop();
      expect(scheduler.stop({ drain: true })).toBe(first);
    });
  });

  it('with drain before start(): starts, runs the queue, then stops', () => {
    inVirtualTime({}, ({ scheduler, log, work, flush }) => {
      scheduler.submitJob({ name: 'early', handler: work(5, 1) });
      void scheduler.stop({ drain: true });
      flush();
      expect(only(log, 'completed')).toEqual(['5:early']);
    });
  });

  it('with drain before start(): counts jobs that finish as the workers start', async () => {
    let report: Promise<StopReport> | undefined;
    let state: unknown;
    inVirtualTime({}, ({ scheduler, work, flush }) => {
      scheduler.submitJob({ name: 'sync', handler: () => 'done at once' });
      scheduler.submitJob({ name: 'later', handler: work(5, 'later') });
      report = scheduler.stop({ drain: true });
      flush();
      state = scheduler.listJobs().map((job) => job.status);
    });
    expect(state).toEqual(['completed', 'completed']);
    await expect(report).resolves.toEqual({ cancelled: [], kept: [], finishedDuringStop: 2 });
  });

  it('with drain before start(), and only synchronous jobs: stops once they are done', async () => {
    let report: Promise<StopReport> | undefined;
    let completed = false;
    inVirtualTime({}, ({ scheduler, flush }) => {
      scheduler.events$.subscribe({ complete: () => (completed = true) });
      scheduler.submitJob({ name: 'a', handler: () => 1 });
      scheduler.submitJob({ name: 'b', handler: () => 2 });
      report = scheduler.stop({ drain: true });
      // Already stopped: intake is closed and the stream has completed.
      expect(completed).toBe(true);
      expect(() => scheduler.submitJob({ name: 'c', handler: () => 3 })).toThrow(
        SchedulerStoppedError,
      );
      flush();
    });
    await expect(report).resolves.toEqual({ cancelled: [], kept: [], finishedDuringStop: 2 });
  });

  it('called from a subscriber, lets the later subscribers see the event first', async () => {
    const seen: string[] = [];
    inVirtualTime({}, ({ scheduler, work, flush }) => {
      void scheduler.start();
      let stopped = false;
      scheduler.events$.subscribe((event) => {
        if (event.type === 'completed' && !stopped) {
          stopped = true;
          void scheduler.stop();
        }
      });
      scheduler.events$.subscribe((event) => seen.push(event.type));
      scheduler.submitJob({ name: 'x', handler: work(10, 1) });
      flush();
    });
    expect(seen).toEqual(['submitted', 'queued', 'started', 'completed']);
  });

  it('finishes when a cancel from outside leaves nothing to wait for', async () => {
    let report: Promise<StopReport> | undefined;
    inVirtualTime({ maxWorkers: 1 }, ({ scheduler, work, testScheduler, flush }) => {
      void scheduler.start();
      const running = scheduler.submitJob({ name: 'running', handler: work(1000, 1) });
      testScheduler.schedule(() => {
        report = scheduler.stop({ drain: true, timeout: Number.POSITIVE_INFINITY });
      }, 10);
      testScheduler.schedule(() => scheduler.cancelJob(running.id), 20);
      flush();
      expect(testScheduler.now()).toBe(20);
    });
    await expect(report).resolves.toMatchObject({ cancelled: [{ name: 'running' }] });
  });

  it('refuses bad options on a second call too, rather than hand back the first report', () => {
    inVirtualTime({}, ({ scheduler, work, flush }) => {
      void scheduler.start();
      scheduler.submitJob({ name: 'x', handler: work(10, 1) });
      const first = scheduler.stop({ drain: true });
      expect(() => scheduler.stop({ timeout: -1 })).toThrow(RangeError);
      expect(scheduler.stop({ drain: false })).toBe(first);
      flush();
    });
  });

  it('closes intake at once when called while a job is submitted', () => {
    inVirtualTime({}, ({ scheduler, log, work, flush }) => {
      void scheduler.start();
      let late: unknown;
      scheduler.events$.subscribe((event) => {
        if (event.type !== 'submitted' || late !== undefined) return;
        void scheduler.stop();
        try {
          scheduler.submitJob({ name: 'late', handler: work(10, 'late') });
          late = 'accepted';
        } catch (error) {
          late = error;
        }
      });
      scheduler.submitJob({ name: 'first', handler: work(10, 'first') });
      flush();
      expect(late).toBeInstanceOf(SchedulerStoppedError);
      expect(log.some((line) => line.endsWith(':late'))).toBe(false);
    });
  });
});
