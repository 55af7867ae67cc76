import { map, of as of$, timer } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  type JobInput,
  JobInterruptedError,
  JobKeptError,
  type StopReport,
} from '../../src/index.js';
import { lifetime, tempDbPath } from './durableHarness.js';

const EPOCH = Date.UTC(2026, 10, 28, 12, 0, 0);
const of = (log: readonly string[], type: string) =>
  log.filter((line) => line.split(':')[1] === type).map((line) => line.replace(`:${type}:`, ':'));

/** Runs `stop(options)` at `at` ms of a life, and hands back its report. */
function stopAt(
  run: Parameters<Parameters<typeof lifetime>[4]>[0],
  at: number,
  options: Parameters<typeof run.scheduler.stop>[0] = {},
): { report?: Promise<StopReport> } {
  const holder: { report?: Promise<StopReport> } = {};
  run.testScheduler.schedule(() => {
    holder.report = run.scheduler.stop(options);
  }, at);
  return holder;
}

/** Job 'rec', by `name`, every `every` ms for `maxRuns` runs, with `overlap`. */
function recurring(
  name: string,
  payload: number | undefined,
  overlap: 'queue' | 'allow',
  every = 100,
  maxRuns = 2,
): JobInput {
  return {
    id: 'rec',
    name,
    ...(payload === undefined ? {} : { payload }),
    overlap,
    schedule: { type: 'interval', every, maxRuns },
  };
}

describe('stop() with a durable store keeps what has not ended, for the next start()', () => {
  it('keeps queued, scheduled and cron jobs, and the next start resumes them', async () => {
    const path = tempDbPath();
    let stopped: { report?: Promise<StopReport> } = {};
    let result: Promise<unknown> | undefined;
    const first = lifetime(path, { maxWorkers: 1 }, EPOCH, 10_000, (run) => {
      void run.scheduler.start();
      run.scheduler.submitJob({ id: 'running', name: 'sleep', payload: 100 });
      result = run.scheduler.submitJob({ id: 'queued', name: 'sleep', payload: 10 }).result;
      run.scheduler.submitJob({
        id: 'later',
        name: 'sleep',
        payload: 5,
        schedule: { type: 'once', startTime: EPOCH + 500 },
      });
      run.scheduler.submitJob({
        id: 'cron',
        name: 'sleep',
        payload: 1,
        schedule: { type: 'cron', cronExpr: '* * * * * *' },
      });
      stopped = stopAt(run, 20);
    });
    // The running job finished; nothing was cancelled, and nothing else ran.
    expect(of(first.log, 'started')).toEqual(['0:running#1.1']);
    expect(of(first.log, 'cancelled')).toEqual([]);
    await expect(stopped.report).resolves.toEqual({
      cancelled: [],
      kept: [
        { id: 'queued', name: 'sleep', status: 'queued' },
        { id: 'later', name: 'sleep', status: 'pending' },
        { id: 'cron', name: 'sleep', status: 'pending' },
      ],
      finishedDuringStop: 1,
    });
    // This process will not see it end.
    await expect(result).rejects.toBeInstanceOf(JobKeptError);

    const next = lifetime(path, { maxWorkers: 1 }, EPOCH + 2000, 1500, (run) => {
      void run.scheduler.start();
      run.testScheduler.schedule(() => run.scheduler.cancelJob('cron'), 1500);
    });
    // The cron job's fire at 1000 came while no process ran: skipped, as run 1.
    expect(of(next.log, 'skipped')).toEqual(['0:cron#1.0']);
    expect(of(next.log, 'started')).toEqual(['0:queued#1.1', '10:later#1.1', '1000:cron#2.1']);
    expect(next.scheduler.getJobStatus('later')?.status).toBe('completed');
  });

  it('interrupts an attempt still running at the deadline, and the next start retries it', async () => {
    const path = tempDbPath();
    let stopped: { report?: Promise<StopReport> } = {};
    const first = lifetime(path, {}, EPOCH, 10_000, (run) => {
      void run.scheduler.start();
      run.scheduler.submitJob({ id: 'long', name: 'sleep', payload: 1000 });
      stopped = stopAt(run, 10, { timeout: 50 });
    });
    expect(of(first.log, 'retrying')).toEqual(['60:long#1.1']);
    const report = await stopped.report;
    expect(report?.kept).toEqual([{ id: 'long', name: 'sleep', status: 'retrying' }]);
    const error = first.scheduler.getJobStatus('long')?.error;
    expect(error).toBeInstanceOf(JobInterruptedError);
    expect(error).toMatchObject({ jobId: 'long', attempt: 1 });

    const next = lifetime(path, {}, EPOCH + 100, 5000, (run) => void run.scheduler.start());
    expect(of(next.log, 'started')).toEqual(['0:long#1.2']);
    expect(next.scheduler.getJobStatus('long')).toMatchObject({
      status: 'completed',
      attempts: 2,
    });
  });

  it('writes a retry that falls due during the stop, and arms it at the next start', async () => {
    const path = tempDbPath();
    let stopped: { report?: Promise<StopReport> } = {};
    const first = lifetime(path, { retryDelay: 1000 }, EPOCH, 10_000, (run) => {
      void run.scheduler.start();
      run.scheduler.submitJob({ id: 'flaky', name: 'flaky', payload: 5 });
      stopped = stopAt(run, 0);
    });
    // Its first attempt failed as the stop began: the retry is written, not run here.
    expect(of(first.log, 'started')).toEqual(['0:flaky#1.1']);
    expect((await stopped.report)?.kept).toEqual([
      { id: 'flaky', name: 'flaky', status: 'retrying' },
    ]);
    const next = lifetime(
      path,
      { retryDelay: 1000 },
      EPOCH + 400,
      5000,
      (run) => void run.scheduler.start(),
    );
    expect(of(next.log, 'started')).toEqual(['600:flaky#1.2']);
  });

  it('keeps a cron job whose run is in flight at the stop, rather than end it', async () => {
    const path = tempDbPath();
    let stopped: { report?: Promise<StopReport> } = {};
    const first = lifetime(path, {}, EPOCH, 10_000, (run) => {
      void run.scheduler.start();
      run.scheduler.submitJob({
        id: 'cron',
        name: 'sleep',
        payload: 500,
        schedule: { type: 'cron', cronExpr: '* * * * * *' },
      });
      stopped = stopAt(run, 1200);
    });
    expect(of(first.log, 'completed')).toEqual(['1500:cron#1.1']);
    expect(first.log.filter((line) => line.includes('cancelled'))).toEqual([]);
    expect((await stopped.report)?.kept).toEqual([
      { id: 'cron', name: 'sleep', status: 'pending' },
    ]);

    const next = lifetime(path, {}, EPOCH + 3000, 1500, (run) => {
      void run.scheduler.start();
      run.testScheduler.schedule(() => run.scheduler.cancelJob('cron'), 1500);
    });
    // The fire at 2000 came while no process ran: skipped, as run 2.
    expect(of(next.log, 'skipped')).toEqual(['0:cron#2.0']);
    expect(of(next.log, 'started')).toEqual(['1000:cron#3.1']);
  });

  it('stops feeding a batch, and the next start goes on with the children not done', async () => {
    const path = tempDbPath();
    let stopped: { report?: Promise<StopReport> } = {};
    const first = lifetime(path, {}, EPOCH, 10_000, (run) => {
      void run.scheduler.start();
      run.scheduler.submitJob({
        id: 'batch',
        name: 'resize-all',
        concurrency: 1,
        jobs: [10, 20, 30].map((ms, index) => ({
          id: `child${index}`,
          name: 'sleep',
          payload: ms,
        })),
      });
      stopped = stopAt(run, 5);
    });
    expect(of(first.log, 'started')).toEqual(['0:child0#1.1']);
    expect((await stopped.report)?.kept).toEqual([
      { id: 'batch', name: 'resize-all', status: 'pending' },
      { id: 'child1', name: 'sleep', status: 'pending' },
      { id: 'child2', name: 'sleep', status: 'pending' },
    ]);

    const next = lifetime(path, {}, EPOCH + 100, 1000, (run) => void run.scheduler.start());
    expect(of(next.log, 'started')).toEqual(['0:child1#1.1', '20:child2#1.1']);
    expect(next.scheduler.getJobStatus('batch')).toMatchObject({
      status: 'completed',
      result: [10, 20, 30],
    });
  });

  it('with drain, runs what is queued and keeps what waits on time', async () => {
    const path = tempDbPath();
    let stopped: { report?: Promise<StopReport> } = {};
    const first = lifetime(path, { maxWorkers: 1 }, EPOCH, 10_000, (run) => {
      void run.scheduler.start();
      run.scheduler.submitJob({ id: 'a', name: 'sleep', payload: 10 });
      run.scheduler.submitJob({ id: 'b', name: 'sleep', payload: 10 });
      run.scheduler.submitJob({
        id: 'later',
        name: 'sleep',
        payload: 5,
        schedule: { type: 'once', startTime: EPOCH + 500 },
      });
      stopped = stopAt(run, 1, { drain: true });
    });
    expect(of(first.log, 'completed')).toEqual(['10:a#1.1', '20:b#1.1']);
    await expect(stopped.report).resolves.toEqual({
      cancelled: [],
      kept: [{ id: 'later', name: 'sleep', status: 'pending' }],
      finishedDuringStop: 2,
    });
  });

  it('with drain, stops feeding a batch: a child that fails keeps its retry, the rest wait', async () => {
    const path = tempDbPath();
    let stopped: { report?: Promise<StopReport> } = {};
    const first = lifetime(path, { retryDelay: 10 }, EPOCH, 10_000, (run) => {
      void run.scheduler.start();
      run.scheduler.submitJob({
        id: 'batch',
        name: 'resize-all',
        concurrency: 1,
        jobs: [
          { id: 'c0', name: 'flaky', payload: 5 },
          { id: 'c1', name: 'sleep', payload: 5 },
        ],
      });
      stopped = stopAt(run, 0, { drain: true, timeout: Number.POSITIVE_INFINITY });
    });
    // The stop ends once c0's attempt has: its retry is the next start's, as is c1.
    expect((await stopped.report)?.kept).toEqual([
      { id: 'batch', name: 'resize-all', status: 'pending' },
      { id: 'c0', name: 'flaky', status: 'retrying' },
      { id: 'c1', name: 'sleep', status: 'pending' },
    ]);
    expect(first.log.at(-1)).toBe('0:retrying:c0#1.1');

    const next = lifetime(path, {}, EPOCH + 100, 1000, (run) => void run.scheduler.start());
    expect(next.scheduler.getJobStatus('batch')).toMatchObject({
      status: 'completed',
      result: [5, 5],
    });
  });

  it('leaves no timer behind: a backoff of a draining batch child is let go', async () => {
    const path = tempDbPath();
    let stopped: { report?: Promise<StopReport> } = {};
    let stoppedAt = Number.NaN;
    const first = lifetime(path, { retryDelay: 5000 }, EPOCH, 100_000, (run) => {
      void run.scheduler.start();
      run.scheduler.submitJob({
        id: 'batch',
        name: 'resize-all',
        jobs: [{ id: 'c0', name: 'flaky', payload: 5 }],
      });
      // The retry is armed before the stop, and would fire at 5000.
      stopped = stopAt(run, 10, { drain: true, timeout: 100 });
      run.scheduler.metrics$.subscribe({ complete: () => (stoppedAt = run.testScheduler.now()) });
    });
    await stopped.report;
    expect(stoppedAt).toBe(10);
    expect(first.log.filter((line) => Number(line.split(':')[0]) > 10)).toEqual([]);
    expect(first.scheduler.getJobStatus('c0')?.status).toBe('retrying');
  });

  it('keeps the last run of a recurring job queued, rather than end the job without it', async () => {
    const path = tempDbPath();
    let stopped: { report?: Promise<StopReport> } = {};
    lifetime(path, { maxWorkers: 1 }, EPOCH, 10_000, (run) => {
      void run.scheduler.start();
      run.scheduler.submitJob(recurring('sleep', 150, 'allow'));
      // Run 1 runs from 100 to 250; run 2 is queued behind it at 200.
      stopped = stopAt(run, 210);
    });
    expect((await stopped.report)?.kept).toEqual([{ id: 'rec', name: 'sleep', status: 'queued' }]);
    const next = lifetime(path, { maxWorkers: 1 }, EPOCH + 1000, 5000, (run) => {
      void run.scheduler.start();
    });
    expect(of(next.log, 'started')).toEqual(['0:rec#2.1']);
    expect(of(next.log, 'cancelled')).toEqual([]);
    expect(next.scheduler.getJobStatus('rec')).toMatchObject({ status: 'completed', runs: 2 });
  });

  it("keeps a run held by overlap: 'queue' as queued, and the next start runs it", async () => {
    const path = tempDbPath();
    let stopped: { report?: Promise<StopReport> } = {};
    lifetime(path, {}, EPOCH, 10_000, (run) => {
      void run.scheduler.start();
      run.scheduler.submitJob(recurring('sleep', 150, 'queue'));
      stopped = stopAt(run, 210);
    });
    expect((await stopped.report)?.kept).toEqual([{ id: 'rec', name: 'sleep', status: 'queued' }]);
    const next = lifetime(path, {}, EPOCH + 1000, 5000, (run) => void run.scheduler.start());
    expect(of(next.log, 'started')).toEqual(['0:rec#2.1']);
    expect(next.scheduler.getJobStatus('rec')).toMatchObject({ status: 'completed', runs: 2 });
  });

  it('at the deadline while draining, drops what is queued before it interrupts what runs', async () => {
    const path = tempDbPath();
    let stopped: { report?: Promise<StopReport> } = {};
    const first = lifetime(path, { maxWorkers: 1, enableRetry: false }, EPOCH, 10_000, (run) => {
      void run.scheduler.start();
      run.scheduler.submitJob({ id: 'a', name: 'sleep', payload: 1000 });
      run.scheduler.submitJob({ id: 'b', name: 'sleep', payload: 10 });
      stopped = stopAt(run, 10, { drain: true, timeout: 50 });
    });
    // b never got a worker: the one a's interruption freed was not handed to it.
    expect(of(first.log, 'started')).toEqual(['0:a#1.1']);
    expect(of(first.log, 'failed')).toEqual(['60:a#1.1']);
    expect((await stopped.report)?.kept).toEqual([{ id: 'b', name: 'sleep', status: 'queued' }]);
  });

  it('keeps the retry of one run while a later run ends, with overlap: allow', async () => {
    const path = tempDbPath();
    let stopped: { report?: Promise<StopReport> } = {};
    const first = lifetime(path, { retryDelay: 10 }, EPOCH, 10_000, (run) => {
      // Run 1's first attempt fails at 250, while run 2 (from 200 to 400) runs.
      run.scheduler.define('odd', (_payload: unknown, { run: n, attempt }) =>
        timer(n === 1 ? 150 : 200, run.testScheduler).pipe(
          map(() => {
            if (n === 1 && attempt === 1) throw new Error('run 1 fails once');
            return n;
          }),
        ),
      );
      void run.scheduler.start();
      run.scheduler.submitJob(recurring('odd', undefined, 'allow', 100, 5));
      stopped = stopAt(run, 210);
    });
    expect(of(first.log, 'retrying')).toEqual(['250:rec#1.1']);
    expect(of(first.log, 'completed')).toEqual(['400:rec#2.1']);
    expect((await stopped.report)?.kept).toEqual([{ id: 'rec', name: 'odd', status: 'retrying' }]);

    const next = lifetime(
      path,
      {},
      EPOCH + 1000,
      50,
      (run) => {
        run.scheduler.define('odd', (_payload: unknown, { run: n }) => of$(n));
        void run.scheduler.start();
      },
      { defineHandlers: false },
    );
    // Run 1 is retried, as its second attempt.
    expect(of(next.log, 'started')[0]).toBe('0:rec#1.2');
  });

  it('keeps the run held by overlap: queue when stop() is called on its predecessor end', async () => {
    const path = tempDbPath();
    let report: Promise<StopReport> | undefined;
    const first = lifetime(path, {}, EPOCH, 10_000, (run) => {
      void run.scheduler.start();
      run.scheduler.events$.subscribe((event) => {
        if (event.jobId === 'rec' && event.type === 'completed' && report === undefined) {
          report = run.scheduler.stop();
        }
      });
      run.scheduler.submitJob({ id: 'long', name: 'sleep', payload: 1000 });
      run.scheduler.submitJob(recurring('sleep', 150, 'queue'));
    });
    // Run 2, held until run 1 ended at 250, does not start in a stop without drain.
    expect(of(first.log, 'started')).toEqual(['0:long#1.1', '100:rec#1.1']);
    expect((await report)?.kept).toEqual([{ id: 'rec', name: 'sleep', status: 'queued' }]);
    const next = lifetime(path, {}, EPOCH + 2000, 5000, (run) => void run.scheduler.start());
    expect(of(next.log, 'started')).toEqual(['0:rec#2.1']);
  });

  it('with drain, ends a batch whose last children finish during the stop', async () => {
    const path = tempDbPath();
    let stopped: { report?: Promise<StopReport> } = {};
    let result: Promise<unknown> | undefined;
    lifetime(path, {}, EPOCH, 10_000, (run) => {
      void run.scheduler.start();
      result = run.scheduler.submitJob({
        id: 'batch',
        name: 'resize-all',
        jobs: [
          { id: 'c0', name: 'sleep', payload: 10 },
          { id: 'c1', name: 'sleep', payload: 20 },
        ],
      }).result;
      stopped = stopAt(run, 5, { drain: true });
    });
    await expect(stopped.report).resolves.toMatchObject({ kept: [], finishedDuringStop: 3 });
    await expect(result).resolves.toEqual([10, 20]);
  });

  it('waits for the resume of recovered jobs before a stop asked for during it', async () => {
    const path = tempDbPath();
    // This life dies with 'a' running, 'b' queued, and a cron job.
    lifetime(path, { maxWorkers: 1 }, EPOCH, 10, (run) => {
      void run.scheduler.start();
      run.scheduler.submitJob({ id: 'a', name: 'sleep', payload: 100 });
      run.scheduler.submitJob({ id: 'b', name: 'sleep', payload: 100 });
      run.scheduler.submitJob({
        id: 'cron',
        name: 'sleep',
        payload: 1,
        schedule: { type: 'cron', cronExpr: '* * * * * *' },
      });
    });
    let report: Promise<StopReport> | undefined;
    const next = lifetime(path, { maxWorkers: 1 }, EPOCH + 1000, 100_000, (run) => {
      // Stopped on the first event of the resume: a's interrupted attempt.
      run.scheduler.events$.subscribe(() => {
        report ??= run.scheduler.stop();
      });
      void run.scheduler.start();
    });
    // The stop takes effect once the resume is whole: b, which the resume started, runs to its
    // end; nothing is armed afterwards, not a's retry, not the cron job.
    expect(of(next.log, 'started')).toEqual(['0:b#1.1']);
    expect(next.testScheduler.actions.filter((action) => !action.closed)).toEqual([]);
    expect((await report)?.kept.map((job) => `${job.id}:${job.status}`)).toEqual([
      'a:retrying',
      'cron:pending',
    ]);
  });

  it('keeps a retry waiting out its backoff, while another run of the job ends', async () => {
    const path = tempDbPath();
    let stopped: { report?: Promise<StopReport> } = {};
    const first = lifetime(path, { maxWorkers: 2, retryDelay: 1000 }, EPOCH, 10_000, (run) => {
      run.scheduler.define('odd', (_payload: unknown, { run: n, attempt }) =>
        timer(n === 1 && attempt === 1 ? 0 : 100, run.testScheduler).pipe(
          map(() => {
            if (n === 1 && attempt === 1) throw new Error('run 1 fails once');
            return n;
          }),
        ),
      );
      void run.scheduler.start();
      run.scheduler.submitJob(recurring('odd', undefined, 'allow', 50, 2));
      // Run 1 fails at 50 and waits until 1050; run 2 runs from 100 to 200.
      stopped = stopAt(run, 110, { timeout: 1000 });
    });
    expect(of(first.log, 'completed')).toEqual(['200:rec#2.1']);
    expect((await stopped.report)?.kept).toEqual([{ id: 'rec', name: 'odd', status: 'retrying' }]);
  });

  it("holds a run behind a retry, unfired, for the next start's schedule to fire again", async () => {
    const path = tempDbPath();
    let stopped: { report?: Promise<StopReport> } = {};
    lifetime(path, { retryDelay: 1000 }, EPOCH, 10_000, (run) => {
      void run.scheduler.start();
      run.scheduler.submitJob(recurring('flaky', 5, 'queue'));
      // Run 1 fails at 100 and waits out its backoff; run 2 is held at 200.
      stopped = stopAt(run, 250);
    });
    expect((await stopped.report)?.kept).toEqual([
      { id: 'rec', name: 'flaky', status: 'retrying' },
    ]);
    const next = lifetime(
      path,
      { retryDelay: 1000 },
      EPOCH + 1000,
      5000,
      (run) => void run.scheduler.start(),
    );
    // Run 1's retry at once, then run 2 at the next point of the grid.
    // Run 1's retry when its backoff ends; run 2 from the grid, held until the retry ends
    // (flaky fails each run's first attempt).
    expect(of(next.log, 'started')).toEqual(['100:rec#1.2', '105:rec#2.1', '1105:rec#2.2']);
    expect(next.scheduler.getJobStatus('rec')).toMatchObject({ status: 'completed', runs: 2 });
  });

  it('keeps the held run unfired when the deadline interrupts the run before it', async () => {
    const path = tempDbPath();
    let stopped: { report?: Promise<StopReport> } = {};
    lifetime(path, {}, EPOCH, 10_000, (run) => {
      void run.scheduler.start();
      run.scheduler.submitJob(recurring('sleep', 500, 'queue'));
      stopped = stopAt(run, 250, { timeout: 50 });
    });
    expect((await stopped.report)?.kept).toEqual([
      { id: 'rec', name: 'sleep', status: 'retrying' },
    ]);
    const next = lifetime(path, {}, EPOCH + 1000, 5000, (run) => void run.scheduler.start());
    expect(of(next.log, 'started')).toEqual(['0:rec#1.2', '500:rec#2.1']);
    expect(next.scheduler.getJobStatus('rec')).toMatchObject({ status: 'completed', runs: 2 });
  });

  it('lists the jobs of a store read but never started as kept', async () => {
    const path = tempDbPath();
    // This life dies with 'a' running and 'b' queued.
    lifetime(path, { maxWorkers: 1 }, EPOCH, 10, (run) => {
      void run.scheduler.start();
      run.scheduler.submitJob({ id: 'a', name: 'sleep', payload: 100 });
      run.scheduler.submitJob({ id: 'b', name: 'sleep', payload: 100 });
    });
    let report: Promise<StopReport> | undefined;
    lifetime(path, {}, EPOCH + 1000, 100, (run) => {
      expect(run.scheduler.listJobs()).toHaveLength(2);
      report = run.scheduler.stop();
    });
    expect((await report)?.kept.map((job) => `${job.id}:${job.status}`)).toEqual([
      'a:running',
      'b:queued',
    ]);
  });
});
