// One suite, both stores: whatever the memory store shows, the SQLite store shows the same,
// and still shows after a restart.
import { map, throwError, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { JobScheduler, type JobSnapshot, type JobStore } from '../../src/index.js';
import { sqliteStore } from '../../src/sqlite.js';
import { tempDbPath } from './durableHarness.js';

interface StoreKind {
  readonly name: string;
  make(): { store: JobStore | undefined; reopen?: () => JobSnapshot[] };
}

const kinds: StoreKind[] = [
  { name: 'memory', make: () => ({ store: undefined }) },
  {
    name: 'sqlite',
    make: () => {
      const path = tempDbPath();
      return {
        store: sqliteStore({ path }),
        // What a new process would find in the file.
        reopen: () => {
          const again = new JobScheduler({ store: sqliteStore({ path }), retention: 2 });
          const jobs = again.listJobs();
          void again.stop();
          return jobs;
        },
      };
    },
  },
];

function scenario(
  kind: StoreKind,
  retention: number,
  body: (scheduler: JobScheduler, flush: () => void, clock: TestScheduler) => void,
) {
  const made = kind.make();
  const testScheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  let scheduler: JobScheduler | undefined;
  testScheduler.run(() => {
    scheduler = new JobScheduler({
      scheduler: testScheduler,
      metricsInterval: Number.POSITIVE_INFINITY,
      retention,
      enableRetry: false,
      ...(made.store === undefined ? {} : { store: made.store }),
    });
    scheduler.define('sleep', (ms: number) => timer(ms, testScheduler).pipe(map(() => ms * 2)));
    scheduler.define('fail', (message: string) => throwError(() => new RangeError(message)));
    body(scheduler, () => testScheduler.flush(), testScheduler);
  });
  return { scheduler: scheduler as JobScheduler, reopen: made.reopen };
}

describe.each(kinds)('the $name store', (kind) => {
  it('lists snapshots in submission order through every transition', () => {
    scenario(kind, 100, (scheduler, flush) => {
      void scheduler.start();
      const a = scheduler.submitJob({ id: 'a', name: 'sleep', payload: 10 });
      scheduler.submitJob({
        id: 'b',
        name: 'sleep',
        payload: 5,
        schedule: { type: 'once', startTime: 100 },
      });
      expect(scheduler.getJobStatus(a.id)).toMatchObject({
        status: 'running',
        attempts: 1,
        startedAt: 0,
      });
      expect(scheduler.listJobs('pending').map((job) => job.id)).toEqual(['b']);
      flush();
      expect(
        scheduler.listJobs().map((job) => [job.id, job.status, job.result, job.finishedAt]),
      ).toEqual([
        ['a', 'completed', 20, 10],
        ['b', 'completed', 10, 105],
      ]);
      expect(scheduler.getJobStatus('nope')).toBeUndefined();
    });
  });

  it('keeps errors, cancellations and cron progress', () => {
    scenario(kind, 100, (scheduler, flush, clock) => {
      void scheduler.start();
      scheduler.submitJob({ id: 'bad', name: 'fail', payload: 'out of range' });
      scheduler.submitJob({
        id: 'cron',
        name: 'sleep',
        payload: 1,
        schedule: { type: 'cron', cronExpr: '*/10 * * * * *' },
      });
      scheduler.submitJob({
        id: 'later',
        name: 'sleep',
        payload: 1,
        schedule: { type: 'once', startTime: 60_000 },
      });
      scheduler.cancelJob('later');
      // Cancelled in virtual time, or the cron job would keep the clock going for ever.
      expect(scheduler.getJobStatus('cron')).toMatchObject({
        status: 'pending',
        nextRunAt: 10_000,
      });
      let cronSnapshot: JobSnapshot | undefined;
      clock.schedule(() => {
        cronSnapshot = scheduler.getJobStatus('cron');
        scheduler.cancelJob('cron');
      }, 35_000);
      flush();
      expect(cronSnapshot).toMatchObject({
        status: 'pending',
        runs: 3,
        result: 2,
        nextRunAt: 40_000,
      });
      const bad = scheduler.getJobStatus('bad');
      expect(bad?.status).toBe('failed');
      expect(bad?.error).toMatchObject({ name: 'RangeError', message: 'out of range' });
      expect(scheduler.getJobStatus('later')).toMatchObject({ status: 'cancelled' });
      expect(scheduler.getJobStatus('cron')?.status).toBe('cancelled');
    });
  });

  it('keeps `retention` finished jobs per status, oldest out first', () => {
    const { scheduler, reopen } = scenario(kind, 2, (s, flush) => {
      void s.start();
      for (const id of ['j1', 'j2', 'j3']) s.submitJob({ id, name: 'sleep', payload: 1 });
      for (const id of ['f1', 'f2', 'f3']) s.submitJob({ id, name: 'fail', payload: 'x' });
      flush();
    });
    expect(scheduler.listJobs().map((job) => job.id)).toEqual(['j2', 'j3', 'f2', 'f3']);
    void scheduler.stop();
    if (reopen !== undefined)
      expect(reopen().map((job) => job.id)).toEqual(['j2', 'j3', 'f2', 'f3']);
  });

  it('keeps a batch, and its newest children, once it ends past `retention`', () => {
    const { scheduler, reopen } = scenario(kind, 2, (s, flush) => {
      void s.start();
      s.submitJob({
        id: 'batch',
        name: 'all',
        jobs: [1, 2, 3, 4, 5].map((step) => ({ id: `c${step}`, name: 'sleep', payload: step })),
      });
      // While it runs, the batch holds the children that retention pushes out.
      s.submitJob({ id: 'probe', name: 'sleep', payload: 4 });
      flush();
    });
    // c1..c5 end at 1..5 and the batch with c5; c4 and probe at 4. The newest two remain.
    expect(scheduler.listJobs().map((job) => job.id)).toEqual(['batch', 'c5']);
    expect(scheduler.getJobStatus('batch')?.result).toEqual([2, 4, 6, 8, 10]);
    void scheduler.stop();
    if (reopen !== undefined) expect(reopen().map((job) => job.id)).toEqual(['batch', 'c5']);
  });

  it('shows after a restart exactly what it showed before', () => {
    const { scheduler, reopen } = scenario(kind, 100, (s, flush) => {
      void s.start();
      s.submitJob({ id: 'x', name: 'sleep', payload: 3 });
      s.submitJob({ id: 'y', name: 'fail', payload: 'nope' });
      s.submitJob({ id: 'z', name: 'sleep', payload: 3, priority: 3 });
      flush();
    });
    const before = scheduler.listJobs();
    void scheduler.stop();
    if (reopen === undefined) return;
    const after = reopen();
    expect(after.map(({ error, ...rest }) => rest)).toEqual(
      before.map(({ error, ...rest }) => rest),
    );
    expect(after.map((job) => (job.error as Error | undefined)?.message)).toEqual(
      before.map((job) => (job.error as Error | undefined)?.message),
    );
  });
});
