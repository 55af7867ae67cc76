// Jobs with a retry policy: the seed's third usage example, a flaky job that fails twice, backs
// off exponentially and then succeeds. Run it with `npx tsx examples/retry-policy.ts`.
import { setTimeout as sleep } from 'node:timers/promises';
import { type JobHandler, JobScheduler, Priority } from '../src/index.js';

const scheduler = new JobScheduler();
await scheduler.start();

const flakyHandler: JobHandler<string, string> = async (data, { attempt, signal }) => {
  await sleep(20, undefined, { signal });
  if (attempt <= 2) throw new Error(`upstream unavailable (attempt ${attempt})`);
  return `Processed: ${data} on attempt ${attempt}`;
};

const started = Date.now();
const job = scheduler.submitJob({
  name: 'flaky_task',
  priority: Priority.High,
  payload: 'sensitive_data',
  handler: flakyHandler,
  // The seed's policy with every delay divided by 10 (1 s becomes 100 ms) so the example is quick;
  // virtual time would keep the real numbers, as examples/marble-testing.ts shows.
  retryPolicy: { maxAttempts: 5, initialDelay: 100, maxDelay: 3_000, backoffFactor: 2 },
});

job.events$.subscribe((event) => {
  if (event.type !== 'retrying' || event.retryAt === undefined) return;
  const reason = event.error instanceof Error ? event.error.message : String(event.error);
  // `at` is read a moment after the delay was added to the clock, so in real time the gap can
  // be a millisecond short of the backoff; rounding shows the doubling.
  const backoff = Math.round((event.retryAt - event.at) / 10) * 10;
  console.log(
    `retrying: attempt ${event.attempt} failed (${reason}); attempt ${event.attempt + 1} at ` +
      `${new Date(event.retryAt).toISOString()} (+${event.retryAt - started} ms), backoff ${backoff} ms`,
  );
});

console.log(`result: ${await job.result}`);
console.log(`attempts: ${scheduler.getJobStatus(job.id)?.attempts}`);

await scheduler.stop();
