// Monitoring and metrics: the seed's fifth usage example. A small mixed workload runs (three
// jobs succeed, one fails after its retries) while `metrics$` streams snapshots; then the seed's
// queries read the totals. Run it with `npx tsx examples/monitoring.ts`.
import { setTimeout as sleep } from 'node:timers/promises';
import { type JobHandler, JobScheduler, type SchedulerMetrics } from '../src/index.js';

// Delays are a few tens of ms, and a snapshot every 100 ms instead of 10 s, so it ends quickly.
const scheduler = new JobScheduler({
  maxWorkers: 2,
  retryAttempts: 3,
  retryDelay: 50,
  metricsInterval: 100,
});

const line = (m: SchedulerMetrics): string =>
  `total=${m.totalJobs} queued=${m.queuedJobs} running=${m.runningJobs} retrying=${m.retryingJobs} ` +
  `completed=${m.completedJobs} failed=${m.failedJobs} busy=${m.busyWorkers}/${m.maxWorkers}`;
scheduler.metrics$.subscribe((snapshot) => console.log(`metrics$ ${line(snapshot)}`));
await scheduler.start();

const resize: JobHandler<number, string> = async (ms, { signal }) => {
  await sleep(ms, undefined, { signal });
  return `resized in ${ms} ms`;
};
const sendEmail: JobHandler<string, never> = async (to, { signal }) => {
  await sleep(20, undefined, { signal });
  throw new Error(`SMTP refused ${to}`);
};

const jobs = [
  scheduler.submitJob({ id: 'job_121', name: 'resize_image', payload: 60, handler: resize }),
  scheduler.submitJob({ id: 'job_122', name: 'resize_image', payload: 90, handler: resize }),
  scheduler.submitJob({ id: 'job_123', name: 'resize_image', payload: 120, handler: resize }),
  scheduler.submitJob({
    id: 'job_124',
    name: 'send_email',
    payload: 'ops@example.com',
    handler: sendEmail,
  }),
];
// The failure is expected here; allSettled also keeps it from being an unhandled rejection.
await Promise.allSettled(jobs.map((job) => job.result));

const metrics = scheduler.getMetrics();
console.log(`Total Jobs: ${metrics.totalJobs}`);
console.log(`Completed: ${metrics.completedJobs}`);
console.log(`Failed: ${metrics.failedJobs}`);
console.log(`Average Execution Time: ${metrics.averageExecTime.toFixed(1)} ms`);
console.log(
  `Retried attempts: ${metrics.retriedAttempts}, exec p95: ${metrics.execTime.p95.toFixed(1)} ms`,
);

const describe = (status: 'completed' | 'failed'): string =>
  scheduler
    .listJobs(status)
    .map((job) => `${job.id} ${job.name} (${job.attempts} attempt${job.attempts === 1 ? '' : 's'})`)
    .join(', ');
console.log(`listJobs('completed'): ${describe('completed')}`);
console.log(`listJobs('failed'): ${describe('failed')}`);

const failed = scheduler.getJobStatus('job_124');
console.log(
  `Job Status: ${failed?.status} (${failed?.error instanceof Error ? failed.error.message : ''})`,
);

// stop() publishes one last snapshot on metrics$, then completes it.
await scheduler.stop();
