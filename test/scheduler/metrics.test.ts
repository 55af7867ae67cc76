import { throwError } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { SchedulerMetrics } from '../../src/index.js';
import { inVirtualTime } from '../helpers/virtualTime.js';

describe('JobScheduler metrics', () => {
  it('counts jobs and times attempts', () => {
    inVirtualTime({ maxWorkers: 2, enableRetry: false }, ({ scheduler, work, flush }) => {
      void scheduler.start();
      for (const ms of [10, 20, 30, 40])
        scheduler.submitJob({ name: `ok-${ms}`, handler: work(ms, ms) });
      scheduler.submitJob({ name: 'bad', handler: () => throwError(() => new Error('x')) });
      expect(scheduler.getMetrics()).toMatchObject({
        totalJobs: 5,
        queuedJobs: 3,
        runningJobs: 2,
        busyWorkers: 2,
      });
      flush();
      const metrics = scheduler.getMetrics();
      expect(metrics).toMatchObject({
        totalJobs: 5,
        completedJobs: 4,
        failedJobs: 1,
        queuedJobs: 0,
        runningJobs: 0,
        busyWorkers: 0,
        maxWorkers: 2,
      });
      // Attempts ran 10, 20, 30, 40 and 0 ms.
      expect(metrics.averageExecTime).toBe(20);
    });
  });

  it('estimates exec and wait quantiles within 1% in constant memory', () => {
    inVirtualTime({ maxWorkers: 1, queueSize: 1000 }, ({ scheduler, work, flush }) => {
      void scheduler.start();
      // One worker: job i runs i ms, and waits for every job before it.
      for (let i = 1; i <= 100; i++) scheduler.submitJob({ name: `job${i}`, handler: work(i, i) });
      flush();
      const { execTime, waitTime } = scheduler.getMetrics();
      const waited = (n: number) => ((n - 1) * n) / 2;
      expect(execTime.p50).toBeGreaterThanOrEqual(50 * 0.99);
      expect(execTime.p50).toBeLessThanOrEqual(51 * 1.01);
      expect(execTime.p95).toBeGreaterThanOrEqual(95 * 0.99);
      expect(execTime.p95).toBeLessThanOrEqual(96 * 1.01);
      expect(execTime.p99).toBeGreaterThanOrEqual(99 * 0.99);
      expect(execTime.p99).toBeLessThanOrEqual(100 * 1.01);
      expect(waitTime.p50).toBeGreaterThanOrEqual(waited(50) * 0.99);
      expect(waitTime.p50).toBeLessThanOrEqual(waited(51) * 1.01);
    });
  });

  it('emits on metrics$ every metricsInterval with the throughput of that interval', () => {
    inVirtualTime(
      { metricsInterval: 1000, maxWorkers: 10 },
      ({ scheduler, work, testScheduler, flush }) => {
        const snapshots: SchedulerMetrics[] = [];
        scheduler.metrics$.subscribe((metrics) => snapshots.push(metrics));
        void scheduler.start();
        for (let i = 0; i < 6; i++) scheduler.submitJob({ name: `job${i}`, handler: work(500, i) });
        testScheduler.schedule(() => {
          for (let i = 0; i < 3; i++)
            scheduler.submitJob({ name: `late${i}`, handler: work(100, i) });
        }, 1500);
        testScheduler.schedule(() => void scheduler.stop(), 3000);
        flush();
        // Ticks at 1 s and 2 s, then the final snapshot of the stop at 3 s.
        expect(snapshots.map((metrics) => metrics.throughput)).toEqual([6, 3, 0]);
      },
    );
  });

  it('divides the first throughput by the time since start(), not since construction', () => {
    inVirtualTime(
      { metricsInterval: 1000, maxWorkers: 10 },
      ({ scheduler, work, testScheduler, flush }) => {
        const snapshots: SchedulerMetrics[] = [];
        scheduler.metrics$.subscribe((metrics) => snapshots.push(metrics));
        testScheduler.schedule(() => {
          void scheduler.start();
          for (let i = 0; i < 10; i++)
            scheduler.submitJob({ name: `job${i}`, handler: work(10, i) });
        }, 9000);
        testScheduler.schedule(() => void scheduler.stop(), 10_500);
        flush();
        // The first interval runs from start() at 9 s to 10 s.
        expect(snapshots.map((metrics) => metrics.throughput)).toEqual([10, 0]);
      },
    );
  });

  it('keeps `retention` finished jobs per status while metrics count them all', () => {
    inVirtualTime({ retention: 2, enableRetry: false }, ({ scheduler, work, flush }) => {
      void scheduler.start();
      for (let i = 0; i < 5; i++) scheduler.submitJob({ name: `ok${i}`, handler: work(1, i) });
      for (let i = 0; i < 3; i++)
        scheduler.submitJob({ name: `bad${i}`, handler: () => throwError(() => i) });
      flush();
      expect(scheduler.listJobs('completed').map((job) => job.name)).toEqual(['ok3', 'ok4']);
      expect(scheduler.listJobs('failed').map((job) => job.name)).toEqual(['bad1', 'bad2']);
      expect(scheduler.getMetrics()).toMatchObject({
        completedJobs: 5,
        failedJobs: 3,
        totalJobs: 8,
      });
    });
  });

  it('lists jobs in submission order and returns copies', () => {
    inVirtualTime({}, ({ scheduler, work, flush }) => {
      void scheduler.start();
      const a = scheduler.submitJob({ name: 'a', handler: work(20, 1) });
      scheduler.submitJob({ name: 'b', handler: work(10, 2) });
      flush();
      expect(scheduler.listJobs().map((job) => job.name)).toEqual(['a', 'b']);
      const snapshot = scheduler.getJobStatus(a.id) as { status: string };
      snapshot.status = 'tampered';
      expect(scheduler.getJobStatus(a.id)?.status).toBe('completed');
    });
  });
});

describe('JobHandle.events$', () => {
  it("replays the submission, then follows this job's events to its terminal one", () => {
    inVirtualTime({ maxWorkers: 1 }, ({ scheduler, work, flush }) => {
      void scheduler.start();
      const seen: string[] = [];
      let completed = false;
      scheduler.submitJob({ name: 'first', handler: work(5, 1) });
      const job = scheduler.submitJob({ name: 'mine', handler: work(10, 1) });
      scheduler.submitJob({ name: 'other', handler: work(5, 1) });
      job.events$.subscribe({
        next: (event) => seen.push(`${event.at}:${event.type}`),
        complete: () => (completed = true),
      });
      flush();
      expect(seen).toEqual(['0:submitted', '0:queued', '5:started', '15:completed']);
      expect(completed).toBe(true);
    });
  });

  it('replays a job that ended inside submitJob, retries included', () => {
    inVirtualTime({ retryDelay: 0 }, ({ scheduler }) => {
      void scheduler.start();
      const seen: string[] = [];
      const job = scheduler.submitJob({ name: 'sync', handler: () => 'done' });
      job.events$.subscribe((event) => seen.push(event.type));
      expect(seen).toEqual(['submitted', 'queued', 'started', 'completed']);
    });
  });
});
