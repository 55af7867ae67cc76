import type { SchedulerLike } from 'rxjs';
import { at } from '../operators/at.js';
import { cron, cronFireTimes } from '../operators/cron.js';
import { every, gridAfter } from '../operators/every.js';
import type { Tick } from '../operators/timerGuard.js';
import type { LiveJob } from './liveJob.js';

/** How a job recovered from a durable store picks up its schedule. */
export interface ResumeOptions {
  readonly createdAt: number;
  /**
   * A fire time missed while no process ran: one fire stands for all that were, run now
   * (`missedRuns: 'once'`) or skipped (`'skip'`).
   */
  readonly missedFireAt?: number;
}

/** What arming a job's runs needs from the scheduler. */
export interface RunSourceHooks {
  readonly scheduler: SchedulerLike;
  /** A fire of run `run`: queue it, or skip it. */
  fire(job: LiveJob, run: number, nextRunAt: number | undefined): void;
  /** Run `run` stands for the fires missed while no process ran, and is skipped. */
  missed(job: LiveJob, run: number, nextRunAt: number | undefined): void;
  /** The source completed without a last fire. */
  sourceDone(job: LiveJob): void;
  enqueue(job: LiveJob, run: number, attempt: number): void;
  runBatch(job: LiveJob): void;
}

/**
 * Arms whatever makes the job's runs: a run now, `at` for a start time, `cron` or `every` for
 * repeating jobs, the batch feed for a batch. A job resumed after a restart continues from now:
 * its run numbers go on from `job.runs`, an interval keeps its grid and its remaining `maxRuns`,
 * and `resume.missedFireAt` makes one fire for all that were missed, run or skipped per
 * `missedRuns`.
 */
export function armRuns(job: LiveJob, hooks: RunSourceHooks, resume?: ResumeOptions): void {
  const { timing } = job.spec;
  const { scheduler } = hooks;
  const sourceDone = () => hooks.sourceDone(job);
  switch (timing.kind) {
    case 'now':
      if (job.spec.type === 'batch') hooks.runBatch(job);
      else {
        job.runs = 1;
        job.sourceDone = true;
        hooks.enqueue(job, 1, 1);
      }
      return;
    case 'once':
      job.source = at(timing.startTime, scheduler).subscribe({
        next: () => {
          job.sourceDone = true;
          hooks.fire(job, 1, undefined);
        },
      });
      return;
    case 'cron': {
      const next = cronFireTimes(timing.cronExpr, timing.timezone);
      if (resume !== undefined) {
        // Its next fire is the first after now, whatever the last process expected.
        job.nextRunAt = next(scheduler.now());
        if (resume.missedFireAt !== undefined) catchUp(job, hooks, job.runs + 1, job.nextRunAt);
      }
      const firstRun = job.runs + 1;
      job.source = cron(timing.cronExpr, { timezone: timing.timezone, scheduler }).subscribe({
        next: (tick) => hooks.fire(job, firstRun + tick.index, fireAfter(tick, next)),
        complete: sourceDone,
      });
      return;
    }
    case 'interval': {
      const { every: period, maxRuns } = timing;
      let startAt = timing.startTime;
      if (resume !== undefined) {
        // The grid of the first process, continued from the first point after now.
        const origin = timing.startTime ?? resume.createdAt + period;
        const now = scheduler.now();
        startAt = now <= origin ? origin : origin + Math.ceil((now - origin) / period) * period;
        if (startAt === now) startAt += period;
        job.nextRunAt = job.runs < maxRuns ? startAt : undefined;
        if (resume.missedFireAt !== undefined && job.runs < maxRuns) {
          catchUp(job, hooks, job.runs + 1, job.runs + 1 < maxRuns ? startAt : undefined);
        }
      }
      const firstRun = job.runs + 1;
      const remaining = maxRuns - job.runs;
      if (remaining <= 0) {
        sourceDone();
        return;
      }
      const options =
        startAt === undefined
          ? { maxRuns: remaining, scheduler }
          : { maxRuns: remaining, scheduler, startAt };
      job.source = every(period, options).subscribe({
        next: (tick) => {
          const run = firstRun + tick.index;
          const nextRunAt = fireAfter(tick, gridAfter(tick.scheduledAt, period));
          hooks.fire(job, run, run < maxRuns ? nextRunAt : undefined);
        },
        complete: sourceDone,
      });
      return;
    }
  }
}

/** The one fire that stands for those missed while no process ran, per `missedRuns`. */
function catchUp(
  job: LiveJob,
  hooks: RunSourceHooks,
  run: number,
  nextRunAt: number | undefined,
): void {
  if (job.spec.missedRuns === 'once') hooks.fire(job, run, nextRunAt);
  else hooks.missed(job, run, nextRunAt);
}

/**
 * The fire after `tick`, as `timerGuard` picks it: after a late wake (a blocked event loop, a
 * suspended laptop) the fire times it overslept are passed over, not owed.
 */
function fireAfter(tick: Tick, after: (time: number) => number | undefined): number | undefined {
  const next = after(tick.scheduledAt);
  return next !== undefined && next <= tick.firedAt ? after(tick.firedAt) : next;
}
