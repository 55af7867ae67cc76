// Cron jobs: the seed's fourth usage example, a report built every day at midnight (UTC), watched
// over three simulated days. Run it with `npx tsx examples/cron.ts`; virtual time makes it instant.
import { map, type SchedulerLike, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { JobScheduler, Priority } from '../src/index.js';

const DAY = 86_400_000;
const iso = (time: number): string => new Date(time).toISOString();

/** Virtual frame 0 reads as `epochMs`, so times print as real dates while timers stay virtual. */
function withEpoch(inner: SchedulerLike, epochMs: number): SchedulerLike {
  return { now: () => epochMs + inner.now(), schedule: inner.schedule.bind(inner) };
}

// A fixed start makes the output the same on every run; with the default scheduler the job
// would fire at the next real midnight instead.
const virtual = new TestScheduler(() => {});
const clock = withEpoch(virtual, Date.UTC(2026, 2, 8, 9, 30));

const scheduler = new JobScheduler({ enableCron: true, scheduler: clock });
await scheduler.start();

const job = scheduler.submitJob({
  name: 'daily_report',
  priority: Priority.Normal,
  payload: 'report_data',
  // Two virtual seconds of work, timed by the same clock as everything else.
  handler: (data: string) =>
    timer(2_000, clock).pipe(map(() => `${data} for ${iso(clock.now()).slice(0, 10)}`)),
  schedule: { type: 'cron', cronExpr: '0 0 * * *' },
});

console.log(
  `now ${iso(clock.now())}, first run ${iso(scheduler.getJobStatus(job.id)?.nextRunAt ?? NaN)}`,
);

job.events$.subscribe((event) => {
  if (event.type === 'completed') {
    console.log(`run ${event.run} completed at ${iso(event.at)}: ${String(event.result)}`);
  }
});

// flush() runs the timers due up to maxFrames only: a cron job never runs out of them.
virtual.maxFrames = 3 * DAY;
virtual.flush();

const metrics = scheduler.getMetrics();
console.log(
  `after 3 days: ${metrics.completedJobs} runs completed, next ${iso(scheduler.getJobStatus(job.id)?.nextRunAt ?? NaN)}`,
);

// A cron job never ends on its own: stop() cancels it and reports that it did.
const report = await scheduler.stop();
console.log(
  `stopped; cancelled: ${report.cancelled.map(({ name, previous }) => `${name} (was ${previous})`).join(', ')}`,
);
