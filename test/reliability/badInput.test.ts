import { describe, expect, it } from 'vitest';
import type { JobInput, JobScheduler } from '../../src/index.js';
import { inVirtualTime } from '../helpers/virtualTime.js';

const handler = () => 'ok';

/** Everything a bad call could disturb: the store, the metrics and the queue. */
function stateOf(scheduler: JobScheduler) {
  return { jobs: scheduler.listJobs(), metrics: scheduler.getMetrics() };
}

type Call = (scheduler: JobScheduler) => unknown;

const badCalls: [string, Call, ErrorConstructor, RegExp][] = [
  ['cancelJob(42)', (s) => s.cancelJob(42 as never), TypeError, /`id`.*`42` \(number\)/],
  ["cancelJob('')", (s) => s.cancelJob(''), RangeError, /`id`.*non-empty/],
  [
    'getJobStatus(undefined)',
    (s) => s.getJobStatus(undefined as never),
    TypeError,
    /`id`.*\(undefined\)/,
  ],
  ["listJobs('done')", (s) => s.listJobs('done' as never), RangeError, /`status`.*'done'/],
  ['listJobs(1)', (s) => s.listJobs(1 as never), TypeError, /`status`.*`1` \(number\)/],
  ['stop(null)', (s) => s.stop(null as never), TypeError, /`options`.*\(null\)/],
  ["stop({ drain: 'yes' })", (s) => s.stop({ drain: 'yes' as never }), TypeError, /`drain`.*'yes'/],
  [
    'stop({ timout: 0 }), a misspelt field',
    (s) => s.stop({ timout: 0 } as never),
    TypeError,
    /`timout` to be left out: the fields are drain, timeout, got `0` \(number\)/,
  ],
  ['stop({ timeout: -1 })', (s) => s.stop({ timeout: -1 }), RangeError, /`timeout`.*`-1`/],
  [
    // A longer delay is handed to setTimeout, which would fire it after 1 ms.
    'stop({ timeout: 2 ** 31 })',
    (s) => s.stop({ timeout: 2 ** 31 }),
    RangeError,
    /`timeout`.*from 0 to 2147483647.*`2147483648`/,
  ],
  [
    'stop({ timeout: NaN })',
    (s) => s.stop({ timeout: Number.NaN }),
    RangeError,
    /`timeout`.*`NaN`/,
  ],
  ['submitJob(null)', (s) => s.submitJob(null as never), TypeError, /`job`.*\(null\)/],
  ["submitJob('job')", (s) => s.submitJob('job' as never), TypeError, /`job`.*\(string\)/],
  [
    'a startTime past the end of Date',
    (s) => s.submitJob({ name: 'x', handler, schedule: { type: 'once', startTime: 8.64e15 + 1 } }),
    RangeError,
    /`schedule.startTime`/,
  ],
  [
    'an Infinity startTime',
    (s) =>
      s.submitJob({
        name: 'x',
        handler,
        schedule: { type: 'once', startTime: Number.POSITIVE_INFINITY },
      }),
    RangeError,
    /`schedule.startTime`.*`Infinity`/,
  ],
  [
    'a negative interval',
    (s) => s.submitJob({ name: 'x', handler, schedule: { type: 'interval', every: -10 } }),
    RangeError,
    /`schedule.every`.*`-10`/,
  ],
  [
    'a NaN maxRuns',
    (s) =>
      s.submitJob({
        name: 'x',
        handler,
        schedule: { type: 'interval', every: 10, maxRuns: Number.NaN },
      }),
    RangeError,
    /`schedule.maxRuns`/,
  ],
  [
    'a cron expression that is not a string',
    (s) => s.submitJob({ name: 'x', handler, schedule: { type: 'cron', cronExpr: 5 as never } }),
    TypeError,
    /`schedule.cronExpr`.*\(number\)/,
  ],
  [
    'an empty cron expression',
    (s) => s.submitJob({ name: 'x', handler, schedule: { type: 'cron', cronExpr: '' } }),
    RangeError,
    /`schedule.cronExpr`/,
  ],
  [
    'a time zone that is not a string',
    (s) =>
      s.submitJob({
        name: 'x',
        handler,
        schedule: { type: 'cron', cronExpr: '* * * * *', timezone: 1 as never },
      }),
    TypeError,
    /`schedule.timezone`.*`1` \(number\)/,
  ],
  [
    'an unknown schedule type',
    (s) => s.submitJob({ name: 'x', handler, schedule: { type: 'weekly' } as never }),
    RangeError,
    /`schedule.type`.*'weekly'/,
  ],
  [
    'a retry policy that is not an object',
    (s) => s.submitJob({ name: 'x', handler, retryPolicy: 3 as never }),
    TypeError,
    /`retryPolicy`.*\(number\)/,
  ],
  [
    'a retry policy that is an array',
    (s) => s.submitJob({ name: 'x', handler, retryPolicy: [] as never }),
    TypeError,
    /`retryPolicy`.*an object/,
  ],
  [
    'Infinity retry delay',
    (s) =>
      s.submitJob({ name: 'x', handler, retryPolicy: { initialDelay: Number.POSITIVE_INFINITY } }),
    RangeError,
    /`retryPolicy.initialDelay`/,
  ],
  [
    'an unknown jitter',
    (s) => s.submitJob({ name: 'x', handler, retryPolicy: { jitter: 'lots' as never } }),
    RangeError,
    /`retryPolicy.jitter`/,
  ],
  [
    'a misspelt job field',
    (s) => s.submitJob({ name: 'x', handler, timout: 5 } as never),
    TypeError,
    /`timout` to be left out: the fields are id, name.*`5` \(number\)/,
  ],
  [
    'a misspelt retry policy field',
    (s) => s.submitJob({ name: 'x', handler, retryPolicy: { maxAttempt: 5 } as never }),
    TypeError,
    /`retryPolicy.maxAttempt`.*`5` \(number\)/,
  ],
  [
    // It would count attempts from 1 again after a value, yet a job's attempt fails as a whole.
    "a retry policy's resetOnSuccess, which no job reads",
    (s) => s.submitJob({ name: 'x', handler, retryPolicy: { resetOnSuccess: true } as never }),
    TypeError,
    /`retryPolicy.resetOnSuccess` to be left out: a job counts its attempts by handler run.*`true` \(boolean\)/,
  ],
  [
    'resetOnSuccess in the retry policy of define() defaults',
    (s) => s.define('f', handler, { retryPolicy: { resetOnSuccess: false } as never }),
    TypeError,
    /`defaults.retryPolicy.resetOnSuccess` to be left out/,
  ],
  [
    'a misspelt schedule field',
    (s) =>
      s.submitJob({
        name: 'x',
        handler,
        schedule: { type: 'cron', cronExpr: '* * * * *', timeZone: 'Europe/Paris' } as never,
      }),
    TypeError,
    /`schedule.timeZone` to be left out: the fields are type, cronExpr, timezone/,
  ],
  [
    "a misspelt field of a batch's child",
    (s) => s.submitJob({ name: 'x', jobs: [{ name: 'child', handler, priorty: 2 } as never] }),
    TypeError,
    /`jobs\[0\].priorty`.*`2` \(number\)/,
  ],
  [
    'a misspelt default',
    (s) => s.define('f', handler, { timout: 5 } as never),
    TypeError,
    /`defaults.timout` to be left out: the fields are priority, timeout/,
  ],
  [
    'a default timeout that is not a number',
    (s) => s.define('f', handler, { timeout: 'x' as never }),
    TypeError,
    /`defaults.timeout`.*`'x'` \(string\)/,
  ],
  [
    'a NaN default priority',
    (s) => s.define('f', handler, { priority: Number.NaN }),
    RangeError,
    /`defaults.priority`.*`NaN` \(number\)/,
  ],
  [
    'a null default priority',
    (s) => s.define('f', handler, { priority: null as never }),
    TypeError,
    /`defaults.priority`.*`null`/,
  ],
  [
    'a default retry policy of no attempts',
    (s) => s.define('f', handler, { retryPolicy: { maxAttempts: 0 } }),
    RangeError,
    /`defaults.retryPolicy.maxAttempts`.*`0` \(number\)/,
  ],
  [
    'a default retry policy that is not an object',
    (s) => s.define('f', handler, { retryPolicy: 5 as never }),
    TypeError,
    /`defaults.retryPolicy`.*`5` \(number\)/,
  ],
  [
    'a child of a batch that is scheduled',
    (s) =>
      s.submitJob({
        name: 'x',
        jobs: [{ name: 'later', handler, schedule: { type: 'once', startTime: 5 } } as never],
      }),
    TypeError,
    /`jobs\[0\].type`/,
  ],
  [
    'jobs that is not an array',
    (s) => s.submitJob({ name: 'x', jobs: {} as never }),
    TypeError,
    /`jobs`/,
  ],
];

describe('bad input to every public method', () => {
  it.each(badCalls)(
    '%s throws a specific error and changes nothing',
    (_label, call, ErrorClass, message) => {
      inVirtualTime({ maxWorkers: 1 }, ({ scheduler, work }) => {
        void scheduler.start();
        scheduler.submitJob({ id: 'running', name: 'running', handler: work(100, 1) });
        scheduler.submitJob({ id: 'queued', name: 'queued', handler: work(100, 1) });
        const before = stateOf(scheduler);
        let thrown: unknown;
        try {
          call(scheduler);
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(ErrorClass);
        expect((thrown as Error).message).toMatch(message);
        expect(stateOf(scheduler)).toEqual(before);
        // The scheduler still works: the stop that follows is accepted and drains.
        void scheduler.stop({ drain: true });
      });
    },
  );

  it('leaves a name free after define() refused its defaults', () => {
    inVirtualTime({}, ({ scheduler, flush }) => {
      void scheduler.start();
      expect(() => scheduler.define('f', handler, { timeout: -1 })).toThrow(/`defaults.timeout`/);
      // Not defined: a job by that name alone has no handler.
      expect(() => scheduler.submitJob({ name: 'f' })).toThrow(/`handler`/);
      scheduler.define('f', () => 'defined', { timeout: 5 });
      const job = scheduler.submitJob({ name: 'f' });
      flush();
      expect(scheduler.getJobStatus(job.id)).toMatchObject({
        status: 'completed',
        result: 'defined',
      });
    });
  });

  it('accepts dates in the past (runs at once) and far in the future (waits)', () => {
    inVirtualTime({}, ({ scheduler, work, testScheduler, flush }) => {
      void scheduler.start();
      const past = scheduler.submitJob({
        name: 'past',
        handler: work(1, 1),
        schedule: { type: 'once', startTime: -1e12 },
      });
      const farAway = Date.UTC(3000, 0, 1);
      const future = scheduler.submitJob({
        name: 'future',
        handler: work(1, 1),
        schedule: { type: 'once', startTime: farAway },
      });
      testScheduler.schedule(() => {
        expect(scheduler.getJobStatus(future.id)).toMatchObject({
          status: 'pending',
          nextRunAt: farAway,
        });
        void scheduler.stop();
      }, 10);
      flush();
      expect(scheduler.getJobStatus(past.id)?.status).toBe('completed');
      const snapshot = scheduler.getJobStatus(future.id);
      expect(snapshot?.status).toBe('cancelled');
      expect(snapshot).not.toHaveProperty('nextRunAt');
    });
  });

  it('does not let a rejected batch leave its valid children behind', () => {
    inVirtualTime({}, ({ scheduler }) => {
      const input: JobInput = {
        name: 'batch',
        jobs: [
          { name: 'good', handler },
          { name: '', handler },
        ],
      };
      expect(() => scheduler.submitJob(input)).toThrow(/`jobs\[1\].name`/);
      expect(scheduler.listJobs()).toEqual([]);
    });
  });
});
