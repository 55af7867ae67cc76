// Real timers and real Promises: only what virtual time cannot show, that promise handlers,
// AbortSignals and unawaited rejections behave on the actual event loop.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { JobCancelledError, JobScheduler, JobTimeoutError } from '../../src/index.js';
import { recordUnhandledRejections } from '../helpers/unhandledRejections.js';

describe('JobScheduler on real time', () => {
  const unhandled = recordUnhandledRejections();

  it('stops with drain, waiting for promise handlers, and leaves no timer behind', async () => {
    // First in this file, so no other test's timer is pending: the count must fall back.
    const timers = () =>
      process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timers();
    const scheduler = new JobScheduler({ maxWorkers: 2, metricsInterval: 5 });
    await scheduler.start();
    scheduler.submitJob({
      name: 'hourly',
      schedule: { type: 'cron', cronExpr: '0 * * * *' },
      handler: () => 1,
    });
    expect(timers()).toBeGreaterThan(before);
    const results = [1, 2, 3].map(
      (n) => scheduler.submitJob({ name: `job${n}`, handler: () => sleep(10, n) }).result,
    );
    const report = await scheduler.stop({ drain: true });
    expect(report.cancelled.map((job) => job.name)).toEqual(['hourly']);
    expect(timers()).toBe(before);
    await expect(Promise.all(results)).resolves.toEqual([1, 2, 3]);
    expect(scheduler.getMetrics().completedJobs).toBe(3);
  });

  it('resolves result with a promise handler value', async () => {
    const scheduler = new JobScheduler();
    await scheduler.start();
    const job = scheduler.submitJob({
      name: 'process_data',
      payload: 'user_data',
      handler: async (data: string) => {
        await sleep(5);
        return `Processed: ${data}`;
      },
    });
    await expect(job.result).resolves.toBe('Processed: user_data');
    expect(scheduler.getJobStatus(job.id)?.status).toBe('completed');
    await scheduler.stop();
  });

  it('aborts ctx.signal with JobTimeoutError when a promise handler overruns', async () => {
    const scheduler = new JobScheduler({ jobTimeout: 20, enableRetry: false });
    await scheduler.start();
    let reason: unknown;
    const job = scheduler.submitJob({
      name: 'slow',
      handler: (_payload, { signal }) =>
        sleep(10_000, undefined, { signal }).catch((error: unknown) => {
          reason = signal.reason;
          throw error;
        }),
    });
    await expect(job.result).rejects.toBeInstanceOf(JobTimeoutError);
    await sleep(1);
    expect(reason).toBeInstanceOf(JobTimeoutError);
    await scheduler.stop();
  });

  it('aborts ctx.signal with JobCancelledError on cancelJob', async () => {
    const scheduler = new JobScheduler();
    await scheduler.start();
    let reason: unknown;
    const job = scheduler.submitJob({
      name: 'cancellable',
      handler: (_payload, { signal }) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            reason = signal.reason;
            reject(signal.reason);
          });
        }),
    });
    await sleep(5);
    expect(scheduler.cancelJob(job.id)).toBe(true);
    await expect(job.result).rejects.toBeInstanceOf(JobCancelledError);
    expect(reason).toBeInstanceOf(JobCancelledError);
    await scheduler.stop();
  });

  it('raises no unhandled rejection for failures nobody awaits', async () => {
    const scheduler = new JobScheduler({ enableRetry: false });
    await scheduler.start();
    scheduler.submitJob({
      name: 'rejects',
      handler: () => Promise.reject(new Error('nobody listens')),
    });
    scheduler.submitJob({ name: 'rejects-undefined', handler: () => Promise.reject(undefined) });
    const cancelled = scheduler.submitJob({ name: 'cancelled', handler: () => sleep(50) });
    void cancelled.result;
    cancelled.cancel();
    await sleep(20);
    expect(scheduler.getMetrics().failedJobs).toBe(2);
    expect(unhandled).toEqual([]);
    await scheduler.stop();
  });
});
