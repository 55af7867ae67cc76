// Basic job scheduling: the seed's first usage example, one immediate High-priority job run by
// a pool of four workers. Run it with `npx tsx examples/basic.ts`.
import { setTimeout as sleep } from 'node:timers/promises';
import { type JobHandler, JobScheduler, Priority } from '../src/index.js';

const scheduler = new JobScheduler({
  maxWorkers: 4,
  queueSize: 100,
  enablePriority: true,
  enableRetry: true,
  retryAttempts: 3,
  retryDelay: 1000,
  jobTimeout: 30_000,
  metricsInterval: 10_000,
});
await scheduler.start();

// Passing the signal on lets a timeout or a cancel stop the simulated work instead of leaking it.
const handler: JobHandler<string, string> = async (data, { signal }) => {
  await sleep(100, undefined, { signal });
  return `Processed: ${data}`;
};

const job = scheduler.submitJob({
  name: 'process_data',
  priority: Priority.High,
  payload: 'user_data',
  handler,
});

console.log(await job.result);
console.log(`status: ${scheduler.getJobStatus(job.id)?.status}`);

// Without stop() the metrics timer would keep the process alive, as the seed's `defer Stop()` does.
await scheduler.stop();
