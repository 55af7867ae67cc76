import { describe, expect, it } from 'vitest';
import type { BatchChildInput, JobInput, SchedulerConfig } from '../../src/index.js';
import {
  DuplicateJobIdError,
  InvalidCronExpressionError,
  JobScheduler,
  QueueFullError,
} from '../../src/index.js';
import { inVirtualTime, only } from '../helpers/virtualTime.js';

const handler = () => 'ok';

describe('new JobScheduler(config)', () => {
  const cases: [string, SchedulerConfig, ErrorConstructor, RegExp][] = [
    ['maxWorkers 0', { maxWorkers: 0 }, RangeError, /`maxWorkers`.*got `0` \(number\)/],
    ['maxWorkers 1.5', { maxWorkers: 1.5 }, RangeError, /`maxWorkers`.*`1.5` \(number\)/],
    [
      'maxWorkers string',
      { maxWorkers: '4' as unknown as number },
      TypeError,
      /`maxWorkers`.*`'4'` \(string\)/,
    ],
    ['queueSize NaN', { queueSize: Number.NaN }, RangeError, /`queueSize`.*`NaN` \(number\)/],
    ['retryAttempts 0', { retryAttempts: 0 }, RangeError, /`retryAttempts`/],
    ['retryDelay -1', { retryDelay: -1 }, RangeError, /`retryDelay`.*`-1`/],
    ['jobTimeout 0', { jobTimeout: 0 }, RangeError, /`jobTimeout`/],
    ['jobTimeout 2^31', { jobTimeout: 2 ** 31 }, RangeError, /`jobTimeout`/],
    [
      'metricsInterval null',
      { metricsInterval: null as unknown as number },
      TypeError,
      /`metricsInterval`.*\(null\)/,
    ],
    [
      'enablePriority 1',
      { enablePriority: 1 as unknown as boolean },
      TypeError,
      /`enablePriority`.*a boolean/,
    ],
    ['retention -1', { retention: -1 }, RangeError, /`retention`/],
    ['scheduler {}', { scheduler: {} as never }, TypeError, /`scheduler`.*SchedulerLike/],
    [
      'unknown field',
      { maxWorker: 4 } as SchedulerConfig,
      TypeError,
      /`maxWorker`.*a config field/,
    ],
    [
      'a field every object inherits',
      JSON.parse('{"toString": 5}') as SchedulerConfig,
      TypeError,
      /`toString`.*a config field.*`5` \(number\)/,
    ],
    ['an array', [] as SchedulerConfig, TypeError, /`config`.*an object/],
  ];
  it.each(cases)('rejects %s', (_label, config, ErrorClass, message) => {
    expect(() => new JobScheduler(config)).toThrow(ErrorClass);
    expect(() => new JobScheduler(config)).toThrow(message);
  });

  it('applies the seed defaults without touching the caller object', () => {
    const config = Object.freeze({ maxWorkers: undefined }) as unknown as SchedulerConfig;
    const scheduler = new JobScheduler(config);
    expect(scheduler.getMetrics().maxWorkers).toBe(4);
    expect(config).toEqual({ maxWorkers: undefined });
  });
});

describe('submitJob validation', () => {
  const cases: [string, JobInput, ErrorConstructor, RegExp][] = [
    ['no handler', { name: 'x' }, TypeError, /`handler`.*a function.*\(undefined\)/],
    [
      'handler not a function',
      { name: 'x', handler: 'run' as never },
      TypeError,
      /`handler`.*`'run'` \(string\)/,
    ],
    ['empty name', { name: '  ', handler }, RangeError, /`name`.*non-empty/],
    ['name not a string', { name: 7 as never, handler }, TypeError, /`name`.*\(number\)/],
    [
      'unknown type',
      { name: 'x', type: 'hourly' as never, handler },
      RangeError,
      /`type`.*'hourly'/,
    ],
    [
      'type without schedule',
      { name: 'x', type: 'cron', handler } as never,
      TypeError,
      /`type`.*needs a schedule/,
    ],
    ['NaN priority', { name: 'x', priority: Number.NaN, handler }, RangeError, /`priority`.*`NaN`/],
    [
      'Infinity priority',
      { name: 'x', priority: Number.POSITIVE_INFINITY, handler },
      RangeError,
      /`priority`/,
    ],
    [
      'invalid startTime',
      { name: 'x', schedule: { type: 'once', startTime: new Date('nope') }, handler },
      RangeError,
      /`schedule.startTime`.*Invalid Date/,
    ],
    [
      'startTime string',
      { name: 'x', schedule: { type: 'once', startTime: '2026-01-01' as never }, handler },
      TypeError,
      /`schedule.startTime`.*\(string\)/,
    ],
    [
      'invalid cron',
      { name: 'x', schedule: { type: 'cron', cronExpr: '61 * * * *' }, handler },
      InvalidCronExpressionError as unknown as ErrorConstructor,
      /`schedule.cronExpr`, got '61 \* \* \* \*' \(string\)/,
    ],
    [
      'invalid time zone',
      {
        name: 'x',
        schedule: { type: 'cron', cronExpr: '* * * * *', timezone: 'Mars/Olympus' },
        handler,
      },
      RangeError,
      /`schedule.timezone`.*'Mars\/Olympus'/,
    ],
    [
      'interval 0',
      { name: 'x', schedule: { type: 'interval', every: 0 }, handler },
      RangeError,
      /`schedule.every`/,
    ],
    [
      'bad retry policy',
      { name: 'x', retryPolicy: { backoffFactor: 0.5 }, handler },
      RangeError,
      /`retryPolicy.backoffFactor`.*`0.5`/,
    ],
    ['bad timeout', { name: 'x', timeout: -5, handler }, RangeError, /`timeout`.*`-5`/],
    [
      'bad overlap',
      { name: 'x', schedule: { type: 'interval', every: 10 }, overlap: 'never' as never, handler },
      RangeError,
      /`overlap`/,
    ],
    [
      'overlap on a one-off job',
      { name: 'x', overlap: 'queue', handler } as never,
      TypeError,
      /`overlap`.*left out of a job of type 'immediate'/,
    ],
    [
      'missedRuns on a scheduled job',
      { name: 'x', schedule: { type: 'once', startTime: 5 }, missedRuns: 'once', handler } as never,
      TypeError,
      /`missedRuns`.*type 'scheduled'/,
    ],
    [
      'concurrency on a single job',
      { name: 'x', concurrency: 2, handler } as never,
      TypeError,
      /`concurrency`.*not a batch.*`2`/,
    ],
    [
      'a handler on a batch',
      { name: 'x', handler, jobs: [{ name: 'a', handler }] } as never,
      TypeError,
      /`handler`.*left out of a batch/,
    ],
    [
      'a payload on a batch',
      { name: 'x', payload: 5, jobs: [{ name: 'a', handler }] } as never,
      TypeError,
      /`payload`.*left out of a batch.*`5` \(number\)/,
    ],
    [
      'jobs with a schedule',
      {
        name: 'x',
        schedule: { type: 'once', startTime: 5 },
        jobs: [{ name: 'a', handler }],
      } as never,
      TypeError,
      /`jobs`.*with a `schedule`/,
    ],
    [
      'null priority',
      { name: 'x', priority: null as never, handler },
      TypeError,
      /`priority`.*null/,
    ],
    ['null timeout', { name: 'x', timeout: null as never, handler }, TypeError, /`timeout`.*null/],
    [
      'null overlap',
      { name: 'x', schedule: { type: 'interval', every: 10 }, overlap: null as never, handler },
      TypeError,
      /`overlap`.*null/,
    ],
    [
      'null maxRuns',
      { name: 'x', schedule: { type: 'interval', every: 10, maxRuns: null as never }, handler },
      TypeError,
      /`schedule.maxRuns`.*null/,
    ],
    [
      'null batch concurrency',
      { name: 'x', concurrency: null as never, jobs: [{ name: 'a', handler }] },
      TypeError,
      /`concurrency`.*null/,
    ],
    ['a job as an array', [] as never, TypeError, /`job`.*\(array\)/],
    [
      'a schedule as an array',
      { name: 'x', schedule: [] as never, handler },
      TypeError,
      /`schedule`.*\(array\)/,
    ],
    [
      'a hole among the children',
      // biome-ignore lint/suspicious/noSparseArray: the hole is the point.
      { name: 'x', jobs: [, { name: 'a', handler }] as never },
      TypeError,
      /`jobs\[0\]`.*undefined/,
    ],
    [
      'a period whose second fire, after startTime, no Date can hold',
      { name: 'x', schedule: { type: 'interval', every: 8.64e15 - 10, startTime: 1000 }, handler },
      RangeError,
      /`schedule.every` to be a whole number from 1 to 8639999999999000/,
    ],
    [
      'a period no Date can hold',
      { name: 'x', schedule: { type: 'interval', every: 1e300 }, handler },
      RangeError,
      /`schedule.every`.*1e\+300/,
    ],
    ['empty batch', { name: 'x', jobs: [] }, TypeError, /`jobs`.*non-empty array/],
    [
      'bad batch child',
      { name: 'x', jobs: [{ name: 'ok', handler }, { name: 'bad' }] },
      TypeError,
      /`jobs\[1\].handler`/,
    ],
    [
      'batch concurrency 0',
      { name: 'x', concurrency: 0, jobs: [{ name: 'a', handler }] },
      RangeError,
      /`concurrency`/,
    ],
  ];

  it.each(cases)('rejects %s and stores nothing', (_label, input, ErrorClass, message) => {
    inVirtualTime({}, ({ scheduler }) => {
      const before = scheduler.getMetrics();
      expect(() => scheduler.submitJob(input)).toThrow(ErrorClass);
      expect(() => scheduler.submitJob(input)).toThrow(message);
      expect(scheduler.listJobs()).toEqual([]);
      expect(scheduler.getMetrics()).toEqual(before);
    });
  });

  it('refuses a null handler rather than run the one defined for the name', () => {
    inVirtualTime({}, ({ scheduler }) => {
      scheduler.define('defined', handler);
      expect(() => scheduler.submitJob({ name: 'defined', handler: null as never })).toThrow(
        new TypeError('Expected `handler` to be a function, got `null` (null)'),
      );
      expect(scheduler.listJobs()).toEqual([]);
    });
  });

  it('rejects a batch that contains itself', () => {
    inVirtualTime({}, ({ scheduler }) => {
      // Not a type TypeScript allows: a batch's jobs are one-off jobs.
      const jobs: JobInput[] = [];
      const cyclic = { name: 'cyclic', jobs } as never as JobInput;
      jobs.push(cyclic);
      expect(() => scheduler.submitJob(cyclic)).toThrow(/contains itself/);
      expect(scheduler.listJobs()).toEqual([]);
    });
  });

  it('takes one child object given twice as two jobs alike, not as a cycle', async () => {
    let result: Promise<unknown> | undefined;
    inVirtualTime({}, ({ scheduler, flush }) => {
      void scheduler.start();
      const child: JobInput = { name: 'same', handler: () => 'done' };
      result = scheduler.submitJob({ name: 'batch', jobs: [child, child] }).result;
      flush();
      expect(scheduler.listJobs().map((job) => job.name)).toEqual(['batch', 'same', 'same']);
    });
    await expect(result).resolves.toEqual(['done', 'done']);
  });

  it('keeps the children it checked, whatever a getter of `jobs` returns later', () => {
    inVirtualTime({}, ({ scheduler }) => {
      let reads = 0;
      const batch = {
        name: 'bulk',
        // Read once to tell the type, once for the children; empty after that.
        get jobs(): BatchChildInput[] {
          reads += 1;
          return reads <= 2 ? [{ name: 'send', handler, payload: 1 }] : [];
        },
      };
      const job = scheduler.submitJob(batch);
      expect(scheduler.listJobs().map(({ id }) => id)).toEqual([job.id, expect.any(String)]);
    });
  });

  it('rejects a duplicate id, also one inside a batch', () => {
    inVirtualTime({}, ({ scheduler }) => {
      scheduler.submitJob({ id: 'job_123', name: 'first', handler });
      expect(() => scheduler.submitJob({ id: 'job_123', name: 'again', handler })).toThrow(
        new DuplicateJobIdError('job_123'),
      );
      expect(() =>
        scheduler.submitJob({
          name: 'batch',
          jobs: [
            { id: 'same', name: 'a', handler },
            { id: 'same', name: 'b', handler },
          ],
        }),
      ).toThrow(
        "Expected `jobs[1].id` to be unused, got 'same' (string), which names another job of this submission",
      );
      expect(() =>
        scheduler.submitJob({ name: 'batch', jobs: [{ id: 'job_123', name: 'a', handler }] }),
      ).toThrow(
        "Expected `jobs[0].id` to be unused, got 'job_123' (string), which names a stored job",
      );
      expect(scheduler.listJobs().map((job) => job.id)).toEqual(['job_123']);
    });
  });

  it('throws QueueFullError when queueSize runs wait, and accepts nothing', () => {
    inVirtualTime({ maxWorkers: 1, queueSize: 2 }, ({ scheduler, work }) => {
      void scheduler.start();
      scheduler.submitJob({ name: 'running', handler: work(10, 1) });
      scheduler.submitJob({ name: 'q1', handler: work(10, 1) });
      scheduler.submitJob({ name: 'q2', handler: work(10, 1) });
      expect(() => scheduler.submitJob({ name: 'q3', handler: work(10, 1) })).toThrow(
        QueueFullError,
      );
      expect(() =>
        scheduler.submitJob({ name: 'b', concurrency: 2, jobs: [{ name: 'c', handler }] }),
      ).toThrow(
        'The queue is full: 2 of 2 runs (queueSize) wait, and the job needs room for 1; it was not accepted',
      );
      expect(scheduler.listJobs().map((job) => job.name)).toEqual(['running', 'q1', 'q2']);
      expect(scheduler.getMetrics().totalJobs).toBe(3);
    });
  });

  it('refuses a priority that aging would scale past the largest number', () => {
    inVirtualTime({ aging: 1000 }, ({ scheduler }) => {
      expect(() => scheduler.submitJob({ name: 'huge', priority: 1e306, handler })).toThrow(
        new RangeError(
          'Expected `priority` to be a number whose product with aging (1000) is finite, got `1e+306` (number)',
        ),
      );
      expect(scheduler.listJobs()).toEqual([]);
    });
    // Just under the bound, priorities are ordered as any others: b, then a.
    inVirtualTime({ aging: 1000, maxWorkers: 1 }, ({ scheduler, log, work, flush }) => {
      void scheduler.start();
      scheduler.submitJob({ name: 'blocker', handler: work(10, 0) });
      scheduler.submitJob({ name: 'a', priority: 9e304, handler: work(10, 1) });
      scheduler.submitJob({ name: 'b', priority: 1.7e305, handler: work(10, 2) });
      flush();
      expect(only(log, 'completed')).toEqual(['10:blocker', '20:b', '30:a']);
    });
    // Without priorities, aging orders nothing and the value is never read.
    inVirtualTime({ aging: 1000, enablePriority: false }, ({ scheduler }) => {
      expect(scheduler.submitJob({ name: 'huge', priority: 1e306, handler })).toBeDefined();
    });
  });

  it('refuses cron jobs with enableCron: false', () => {
    inVirtualTime({ enableCron: false }, ({ scheduler }) => {
      expect(() =>
        scheduler.submitJob({
          name: 'nightly',
          schedule: { type: 'cron', cronExpr: '0 0 * * *' },
          handler,
        }),
      ).toThrow(/enableCron: false/);
      expect(scheduler.listJobs()).toEqual([]);
    });
  });

  it('infers the job type from the input', () => {
    inVirtualTime({}, ({ scheduler }) => {
      const types = [
        scheduler.submitJob({ name: 'a', handler }),
        scheduler.submitJob({ name: 'b', schedule: { type: 'once', startTime: 10 }, handler }),
        scheduler.submitJob({
          name: 'c',
          schedule: { type: 'cron', cronExpr: '* * * * *' },
          handler,
        }),
        scheduler.submitJob({ name: 'd', schedule: { type: 'interval', every: 10 }, handler }),
        scheduler.submitJob({ name: 'e', jobs: [{ name: 'child', handler }] }),
      ].map((job) => scheduler.getJobStatus(job.id)?.type);
      expect(types).toEqual(['immediate', 'scheduled', 'cron', 'recurring', 'batch']);
      void scheduler.stop();
    });
  });
});
