// A process that runs a mixed workload on a SQLite job store until it is killed, or, in drain
// mode, recovers what the last one left and finishes it. The crash test drives it.
// Usage: node --import tsx test/store/crashWorker.ts <db> <log> workload|drain
import { appendFileSync } from 'node:fs';
import { JobScheduler, Priority } from '../../src/index.js';
import { sqliteStore } from '../../src/sqlite.js';

const [dbPath = '', logPath = '', mode = 'workload'] = process.argv.slice(2);
// Synchronous, so a line written before a SIGKILL is on disk.
const log = (line: string) => appendFileSync(logPath, `${line}\n`);
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

const scheduler = new JobScheduler({
  store: sqliteStore({ path: dbPath }),
  maxWorkers: 3,
  queueSize: 10_000,
  retention: Number.POSITIVE_INFINITY,
  retryDelay: 20,
  jobTimeout: 2000,
  metricsInterval: Number.POSITIVE_INFINITY,
});

scheduler.define('work', async (ms: number, { signal, job, run, attempt }) => {
  log(`exec ${job.id} ${run} ${attempt}`);
  await sleep(ms, signal);
  log(`done ${job.id} ${run} ${attempt}`);
  return ms;
});
scheduler.define('flaky', async (ms: number, { signal, job, run, attempt }) => {
  log(`exec ${job.id} ${run} ${attempt}`);
  await sleep(ms, signal);
  if (attempt === 1) throw new Error('first attempt fails');
  log(`done ${job.id} ${run} ${attempt}`);
  return ms;
});
scheduler.define('tick', (_payload: unknown, { job, run, attempt }) => {
  log(`cron ${job.id} ${run} ${attempt} ${Math.floor(Date.now() / 1000)}`);
  log(`done ${job.id} ${run} ${attempt}`);
  return run;
});

scheduler.events$.subscribe((event) => {
  const error = event.error as { name?: string } | undefined;
  if (error?.name === 'JobInterruptedError')
    log(`interrupted ${event.jobId} ${event.run} ${event.attempt}`);
  // The store writes a turn's transitions on an immediate it asked for before this one: once
  // this runs, the completion is in the database.
  if (event.type === 'completed') {
    setImmediate(() => log(`persisted ${event.jobId} ${event.run} ${event.attempt}`));
  }
});

await scheduler.start();

if (mode === 'drain') {
  // Let every recovered job finish, except the cron job, which never does by itself.
  const unfinished = () =>
    scheduler
      .listJobs()
      .filter(
        (job) => job.type !== 'cron' && !['completed', 'failed', 'cancelled'].includes(job.status),
      );
  const deadline = Date.now() + 20_000;
  while (unfinished().length > 0 && Date.now() < deadline) await sleep(20);
  for (const job of scheduler.listJobs()) if (job.type === 'cron') scheduler.cancelJob(job.id);
  await scheduler.stop({ drain: true, timeout: 5000 });
  process.stdout.write(
    `${JSON.stringify(scheduler.listJobs().map(({ id, status }) => ({ id, status })))}\n`,
  );
} else {
  if (scheduler.getJobStatus('cron-every-second') === undefined) {
    scheduler.submitJob({
      id: 'cron-every-second',
      name: 'tick',
      // The workload below keeps the three workers a little over-full; at a lower priority the
      // cron runs would starve behind it, and the test would see too few fires.
      priority: Priority.Critical,
      schedule: { type: 'cron', cronExpr: '* * * * * *' },
    });
  }
  process.stdout.write('ready\n');
  for (let i = 0; ; i++) {
    const name = i % 5 === 0 ? 'flaky' : 'work';
    const priority =
      [Priority.Low, Priority.Normal, Priority.High, Priority.Critical][i % 4] ?? Priority.Normal;
    const schedule =
      i % 7 === 0 ? { type: 'once' as const, startTime: Date.now() + 150 } : undefined;
    const handle = scheduler.submitJob({
      name,
      priority,
      payload: 5 + (i % 4) * 15,
      ...(schedule ? { schedule } : {}),
    });
    // Printed only once submitJob returned: the job is on disk by now.
    log(`accepted ${handle.id}`);
    await sleep(8);
  }
}
