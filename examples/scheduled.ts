// Scheduled jobs: the seed's second usage example, a job that runs once, five minutes from now.
// Run it with `npx tsx examples/scheduled.ts`; it finishes at once because it runs in virtual time.
import { of, type SchedulerLike } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { JobScheduler, Priority } from '../src/index.js';

const MINUTE = 60_000;

/** Virtual frame 0 reads as `epochMs`, so times print as real dates while timers stay virtual. */
function withEpoch(inner: SchedulerLike, epochMs: number): SchedulerLike {
  return {
    now: () => epochMs + inner.now(),
    schedule: inner.schedule.bind(inner),
  };
}

// With the default scheduler (leave `scheduler` out) this is the same program, and it would
// simply wait five real minutes. A TestScheduler lets the clock jump there instead.
const virtual = new TestScheduler(() => {});
const clock = withEpoch(virtual, Date.now());
const start = clock.now();

const scheduler = new JobScheduler({ scheduler: clock });
await scheduler.start();

const job = scheduler.submitJob({
  name: 'maintenance_task',
  priority: Priority.Normal,
  payload: 'maintenance_data',
  handler: (data: string) => of(`Processed: ${data}`),
  // `clock.now()` is `Date.now()` here; taking it from the scheduler keeps the job in virtual time.
  schedule: { type: 'once', startTime: clock.now() + 5 * MINUTE },
});

const show = (label: string): void => {
  const snapshot = scheduler.getJobStatus(job.id);
  const nextRunAt = snapshot?.nextRunAt === undefined ? '-' : iso(snapshot.nextRunAt);
  console.log(`${label}: status=${snapshot?.status} nextRunAt=${nextRunAt}`);
};
const iso = (time: number): string => new Date(time).toISOString();
const elapsed = (time: number): string => `+${(time - start) / MINUTE} min`;

job.events$.subscribe((event) => {
  console.log(`  ${event.type.padEnd(9)} at ${iso(event.at)} (${elapsed(event.at)})`);
});

show(`submitted at ${iso(start)}`);
// flush() runs the timers due up to maxFrames only: the metrics timer would otherwise never end.
virtual.maxFrames = 5 * MINUTE;
virtual.flush();
show(`after ${elapsed(clock.now())}`);
console.log(`result: ${await job.result}`);

await scheduler.stop();
