import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { type JobEvent, JobScheduler, QueueFullError } from '../../src/index.js';
import { ClockScheduler } from '../helpers/epochScheduler.js';
import { inVirtualTime, only } from '../helpers/virtualTime.js';

describe('JobScheduler scheduled jobs', () => {
  it("keeps a 'scheduled' job pending until startTime, then runs it", () => {
    inVirtualTime({}, ({ scheduler, log, work, testScheduler, flush }) => {
      void scheduler.start();
      const job = scheduler.submitJob({
        name: 'later',
        schedule: { type: 'once', startTime: 5000 },
        handler: work(10, 'x'),
      });
      testScheduler.schedule(() => {
        expect(scheduler.getJobStatus(job.id)).toMatchObject({
          status: 'pending',
          type: 'scheduled',
          nextRunAt: 5000,
        });
      }, 4999);
      flush();
      expect(only(log, 'started')).toEqual(['5000:later']);
      expect(scheduler.getJobStatus(job.id)).toMatchObject({
        status: 'completed',
        finishedAt: 5010,
      });
    });
  });

  it('runs a job whose startTime has passed at once', () => {
    inVirtualTime({}, ({ scheduler, log, work, testScheduler, flush }) => {
      void scheduler.start();
      testScheduler.schedule(() => {
        scheduler.submitJob({
          name: 'overdue',
          schedule: { type: 'once', startTime: new Date(10) },
          handler: work(1, 1),
        });
      }, 500);
      flush();
      expect(only(log, 'started')).toEqual(['500:overdue']);
    });
  });

  it('reaches a startTime more than 2^31 ms away at exactly that time', () => {
    inVirtualTime({}, ({ scheduler, log, work, flush }) => {
      void scheduler.start();
      const farAway = 30 * 24 * 3600 * 1000;
      scheduler.submitJob({
        name: 'next-month',
        schedule: { type: 'once', startTime: farAway },
        handler: work(1, 1),
      });
      flush();
      expect(only(log, 'started')).toEqual([`${farAway}:next-month`]);
    });
  });
});

describe('JobScheduler cron and recurring jobs', () => {
  it('queues a run on each cron fire and tracks runs and nextRunAt', () => {
    inVirtualTime({}, ({ scheduler, log, work, testScheduler, flush }) => {
      void scheduler.start();
      const job = scheduler.submitJob({
        name: 'tick',
        schedule: { type: 'cron', cronExpr: '*/10 * * * * *' },
        handler: work(1, 'r'),
      });
      testScheduler.schedule(() => {
        expect(scheduler.getJobStatus(job.id)).toMatchObject({
          status: 'pending',
          runs: 3,
          nextRunAt: 40_000,
          result: 'r',
        });
        scheduler.cancelJob(job.id);
      }, 35_000);
      flush();
      expect(only(log, 'started')).toEqual(['10000:tick', '20000:tick', '30000:tick']);
      expect(scheduler.getJobStatus(job.id)?.status).toBe('cancelled');
    });
  });

  it.each([
    ['recurring', { type: 'interval', every: 100 }, 300, 1400],
    ['cron', { type: 'cron', cronExpr: '* * * * * *' }, 3000, 5000],
  ] as const)(
    'gives a %s job the next real fire as nextRunAt after the clock jumps ahead',
    (_kind, schedule, firstLate, expectedNext) => {
      const testScheduler = new TestScheduler((actual, expected) =>
        expect(actual).toEqual(expected),
      );
      testScheduler.run(() => {
        // The wall clock jumps 1,000 ms ahead (a suspend, a blocked loop) just before a fire.
        const clock = new ClockScheduler(testScheduler, {
          offset: (frame) => (frame >= firstLate - 50 ? 1000 : 0),
        });
        const scheduler = new JobScheduler({
          scheduler: clock,
          metricsInterval: Number.POSITIVE_INFINITY,
        });
        const queued: JobEvent[] = [];
        scheduler.events$.subscribe((event) => {
          if (event.type === 'queued') queued.push(event);
        });
        void scheduler.start();
        scheduler.submitJob({ id: 'job', name: 'job', schedule, handler: () => 'done' });
        testScheduler.schedule(() => void scheduler.stop(), firstLate + 2000);
        testScheduler.flush();
        const late = queued.find((event) => event.at >= firstLate + 1000);
        // The fire the wake stands for is late; the one it names next is not in the past.
        expect(late?.nextRunAt).toBe(expectedNext);
        expect(late?.nextRunAt).toBeGreaterThan(late?.at as number);
      });
    },
  );

  it('emits an outcome event for each run, carrying its run number', () => {
    inVirtualTime({}, ({ scheduler, events, work, flush }) => {
      void scheduler.start();
      const job = scheduler.submitJob({
        name: 'thrice',
        schedule: { type: 'interval', every: 100, maxRuns: 3 },
        handler: work(1, 'r'),
      });
      flush();
      const outcomes = events.filter(
        (event) => event.jobId === job.id && event.type === 'completed',
      );
      expect(outcomes.map((event) => [event.at, event.run, event.final])).toEqual([
        [101, 1, false],
        [201, 2, false],
        [301, 3, true],
      ]);
      expect(scheduler.getJobStatus(job.id)).toMatchObject({
        status: 'completed',
        runs: 3,
        type: 'recurring',
      });
    });
  });

  it("shows only the last run's outcome: a result, or an error, never both", () => {
    inVirtualTime({ enableRetry: false }, ({ scheduler, testScheduler, flush }) => {
      void scheduler.start();
      scheduler.submitJob({
        id: 'alternating',
        name: 'alternating',
        schedule: { type: 'interval', every: 10, maxRuns: 3 },
        handler: (_payload, { run }) => {
          if (run === 2) throw new Error(`run ${run} failed`);
          return `run ${run}`;
        },
      });
      const seen: unknown[] = [];
      for (const at of [15, 25, 35]) {
        testScheduler.schedule(() => {
          const { result, error } = scheduler.getJobStatus('alternating') ?? {};
          seen.push([result, (error as Error | undefined)?.message]);
        }, at);
      }
      flush();
      expect(seen).toEqual([
        ['run 1', undefined],
        [undefined, 'run 2 failed'],
        ['run 3', undefined],
      ]);
    });
  });

  it('starts an interval at startTime when given', () => {
    inVirtualTime({}, ({ scheduler, log, work, flush }) => {
      void scheduler.start();
      scheduler.submitJob({
        name: 'from-1s',
        schedule: { type: 'interval', every: 500, startTime: 1000, maxRuns: 2 },
        handler: work(1, 1),
      });
      flush();
      expect(only(log, 'started')).toEqual(['1000:from-1s', '1500:from-1s']);
    });
  });

  it("skips a fire while the previous run is unfinished with overlap: 'skip'", () => {
    inVirtualTime({}, ({ scheduler, log, work, flush }) => {
      void scheduler.start();
      scheduler.submitJob({
        name: 'slow',
        schedule: { type: 'interval', every: 100, maxRuns: 4 },
        handler: work(150, 1),
      });
      flush();
      expect(only(log, 'started')).toEqual(['100:slow', '300:slow']);
      expect(only(log, 'skipped')).toEqual(['200:slow', '400:slow']);
      expect(scheduler.getMetrics().skippedRuns).toBe(2);
    });
  });

  it("runs a held fire after the previous run with overlap: 'queue'", () => {
    inVirtualTime({}, ({ scheduler, log, work, flush }) => {
      void scheduler.start();
      scheduler.submitJob({
        name: 'slow',
        overlap: 'queue',
        schedule: { type: 'interval', every: 100, maxRuns: 3 },
        handler: work(150, 1),
      });
      flush();
      expect(only(log, 'started')).toEqual(['100:slow', '250:slow', '400:slow']);
    });
  });

  it("counts runs held by overlap: 'queue' against queueSize, and skips fires beyond it", () => {
    inVirtualTime({ queueSize: 3 }, ({ scheduler, events, log, work, flush }) => {
      void scheduler.start();
      // Each run takes 25 ms and a fire comes every 10: held runs would pile up without bound.
      scheduler.submitJob({
        id: 'slow',
        name: 'slow',
        overlap: 'queue',
        schedule: { type: 'interval', every: 10, maxRuns: 30 },
        handler: work(25, 1),
      });
      flush();
      const skips = events.filter((event) => event.type === 'skipped');
      expect(skips.length).toBeGreaterThan(0);
      expect(skips.every((event) => event.reason === 'queue-full')).toBe(true);
      expect(scheduler.getMetrics().skippedRuns).toBe(skips.length);
      // Three runs at most wait behind the one running, so none starts more than 3 runs late.
      for (const line of only(log, 'started')) {
        const at = Number(line.split(':')[0]);
        const started = events.find((event) => event.type === 'started' && event.at === at);
        expect(at - (started?.run ?? 0) * 10).toBeLessThanOrEqual(3 * 25 + 25);
      }
      expect(only(log, 'started').length + skips.length).toBe(30);
    });
  });

  it("refuses a submission while runs held by overlap: 'queue' fill the queue", () => {
    inVirtualTime({ queueSize: 2 }, ({ scheduler, work, testScheduler, flush }) => {
      void scheduler.start();
      scheduler.submitJob({
        name: 'slow',
        overlap: 'queue',
        schedule: { type: 'interval', every: 10, maxRuns: 3 },
        handler: work(100, 1),
      });
      let refused: unknown;
      // At 35 the first run is under way and the next two fires are held.
      testScheduler.schedule(() => {
        try {
          scheduler.submitJob({ name: 'late', handler: work(1, 2) });
        } catch (error) {
          refused = error;
        }
      }, 35);
      flush();
      expect(refused).toBeInstanceOf(QueueFullError);
    });
  });

  it("emits a run's end before the held run it lets in with overlap: 'queue'", () => {
    inVirtualTime({}, ({ scheduler, log, work, testScheduler, flush }) => {
      void scheduler.start();
      const job = scheduler.submitJob({
        name: 'slow',
        overlap: 'queue',
        schedule: { type: 'interval', every: 100, maxRuns: 2 },
        handler: work(150, 1),
      });
      const statuses: string[] = [];
      scheduler.events$.subscribe((event) => {
        if (event.type === 'completed') statuses.push(`${event.at}:${event.status}`);
      });
      testScheduler.schedule(() => {
        // Run 2 has started; the stored status must say so, not what run 1's end said.
        expect(scheduler.getJobStatus(job.id)?.status).toBe('running');
      }, 260);
      flush();
      expect(log.filter((line) => /^250:/.test(line))).toEqual([
        '250:completed:slow',
        '250:queued:slow',
        '250:started:slow',
      ]);
      expect(statuses).toEqual(['250:queued', '400:completed']);
    });
  });

  it("does not queue the held run of a job cancelled as its run ends, with overlap: 'queue'", () => {
    inVirtualTime({}, ({ scheduler, log, work, flush }) => {
      void scheduler.start();
      const job = scheduler.submitJob({
        name: 'slow',
        overlap: 'queue',
        schedule: { type: 'interval', every: 100, maxRuns: 3 },
        handler: work(150, 1),
      });
      scheduler.events$.subscribe((event) => {
        if (event.type === 'completed' && event.jobId === job.id) scheduler.cancelJob(job.id);
      });
      flush();
      expect(only(log, 'started')).toEqual(['100:slow']);
      expect(log.filter((line) => line.startsWith('250:'))).toEqual([
        '250:completed:slow',
        '250:cancelled:slow',
      ]);
      expect(scheduler.getMetrics().queuedJobs).toBe(0);
    });
  });

  it("queues every held run when ends nest, with overlap: 'queue'", () => {
    inVirtualTime({ maxWorkers: 2 }, ({ scheduler, work, flush }) => {
      void scheduler.start();
      const blocker = scheduler.submitJob({ name: 'blocker', handler: work(10_000, 'x') });
      const every = { type: 'interval' as const, every: 100, maxRuns: 2 };
      const a = scheduler.submitJob({
        name: 'a',
        overlap: 'queue',
        schedule: every,
        handler: work(150, 'a'),
      });
      const b = scheduler.submitJob({
        name: 'b',
        overlap: 'queue',
        schedule: every,
        handler: () => 'b',
      });
      // Freeing a worker on a's end lets b run, end and hold its own run, inside a's end.
      scheduler.events$.subscribe((event) => {
        if (event.jobId === a.id && event.type === 'completed' && event.run === 1) {
          scheduler.cancelJob(blocker.id);
        }
      });
      flush();
      expect(scheduler.getJobStatus(a.id)).toMatchObject({ status: 'completed', runs: 2 });
      expect(scheduler.getJobStatus(b.id)).toMatchObject({ status: 'completed', runs: 2 });
    });
  });

  it("runs fires side by side with overlap: 'allow'", () => {
    inVirtualTime({}, ({ scheduler, log, work, flush }) => {
      void scheduler.start();
      scheduler.submitJob({
        name: 'slow',
        overlap: 'allow',
        schedule: { type: 'interval', every: 100, maxRuns: 3 },
        handler: work(150, 1),
      });
      flush();
      expect(only(log, 'started')).toEqual(['100:slow', '200:slow', '300:slow']);
    });
  });

  it('skips and counts a cron fire that meets a full queue', () => {
    inVirtualTime(
      { maxWorkers: 1, queueSize: 1 },
      ({ scheduler, log, work, testScheduler, flush }) => {
        void scheduler.start();
        scheduler.submitJob({ name: 'busy', handler: work(2500, 1) });
        scheduler.submitJob({ name: 'waiting', handler: work(1, 1) });
        const cron = scheduler.submitJob({
          name: 'every-second',
          schedule: { type: 'cron', cronExpr: '* * * * * *' },
          handler: work(1, 1),
        });
        testScheduler.schedule(() => scheduler.cancelJob(cron.id), 3500);
        flush();
        expect(only(log, 'skipped')).toEqual(['1000:every-second', '2000:every-second']);
        expect(only(log, 'started')).toEqual(['0:busy', '2500:waiting', '3000:every-second']);
        expect(scheduler.getMetrics().skippedRuns).toBe(2);
      },
    );
  });

  it('reads cron expressions in the given time zone, at real dates', () => {
    const epoch = Date.UTC(2026, 5, 1, 12, 0);
    inVirtualTime(
      {},
      ({ scheduler, log, work, testScheduler, flush }) => {
        void scheduler.start();
        const job = scheduler.submitJob({
          name: 'nine-in-tokyo',
          schedule: { type: 'cron', cronExpr: '0 9 * * *', timezone: 'Asia/Tokyo' },
          handler: work(1, 1),
        });
        // 09:00 in Tokyo is 00:00 UTC: the next one is 12 hours after the epoch.
        expect(scheduler.getJobStatus(job.id)?.nextRunAt).toBe(Date.UTC(2026, 5, 2, 0, 0));
        testScheduler.schedule(() => scheduler.cancelJob(job.id), 13 * 3600 * 1000);
        flush();
        expect(only(log, 'started')).toEqual([`${Date.UTC(2026, 5, 2, 0, 0)}:nine-in-tokyo`]);
      },
      epoch,
    );
  });

  it('ends a recurring job whose last fire is skipped as its last run ended, counting no extra run', () => {
    inVirtualTime(
      { maxWorkers: 1, queueSize: 1 },
      ({ scheduler, events, work, testScheduler, flush }) => {
        void scheduler.start();
        const job = scheduler.submitJob({
          name: 'thrice',
          schedule: { type: 'interval', every: 10, maxRuns: 3 },
          handler: work(1, 'r'),
        });
        testScheduler.schedule(() => {
          scheduler.submitJob({ name: 'filler-running', handler: work(100, 1) });
          scheduler.submitJob({ name: 'filler-queued', handler: work(1, 1) });
        }, 25);
        flush();
        const own = events.filter((event) => event.jobId === job.id && event.type !== 'submitted');
        expect(
          own.filter((event) => event.final).map((event) => [event.type, event.at, event.status]),
        ).toEqual([['skipped', 30, 'completed']]);
        expect(scheduler.getJobStatus(job.id)).toMatchObject({
          status: 'completed',
          result: 'r',
          runs: 3,
        });
        expect(scheduler.getMetrics()).toMatchObject({ completedJobs: 4, skippedRuns: 1 });
      },
    );
  });

  it('fails a recurring job none of whose fires found a place in the queue', async () => {
    let result: Promise<unknown> | undefined;
    inVirtualTime(
      { maxWorkers: 1, queueSize: 1, jobTimeout: Number.POSITIVE_INFINITY },
      ({ scheduler, work, flush }) => {
        void scheduler.start();
        scheduler.submitJob({ name: 'running', handler: work(100, 1) });
        scheduler.submitJob({ name: 'queued', handler: work(1, 1) });
        const job = scheduler.submitJob({
          name: 'once',
          schedule: { type: 'interval', every: 10, maxRuns: 1 },
          handler: work(1, 1),
        });
        result = job.result;
        flush();
        expect(scheduler.getJobStatus(job.id)).toMatchObject({
          status: 'failed',
          runs: 1,
          attempts: 0,
        });
        expect(scheduler.getMetrics()).toMatchObject({
          completedJobs: 2,
          failedJobs: 0,
          skippedRuns: 1,
        });
      },
    );
    await expect(result).rejects.toBeInstanceOf(QueueFullError);
  });
});
