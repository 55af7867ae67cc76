import type { SchedulerLike } from 'rxjs';
import { JobInterruptedError } from './errors.js';
import type { HandlerRegistry } from './handlerRegistry.js';
import { fromDefinition } from './jobSpec.js';
import type { JobStore, RecoveredJob } from './jobStore.js';
import { LiveJob } from './liveJob.js';
import type { ResumeOptions } from './runSources.js';
import type { JobEvent, JobSnapshot, JobStatus } from './types.js';

type Fields = Partial<Omit<JobEvent, 'type' | 'jobId' | 'status' | 'previous'>>;

/** What resuming needs from the scheduler: its clock, its handlers, and its ways to act. */
export interface ResumeHooks {
  readonly scheduler: SchedulerLike;
  readonly registry: HandlerRegistry;
  readonly store: JobStore;
  adopt(job: LiveJob): void;
  enqueue(job: LiveJob, run: number, attempt: number): void;
  retryLater(job: LiveJob, run: number, attempt: number, retryAt: number): void;
  begin(job: LiveJob, resume: ResumeOptions): void;
  emit(job: LiveJob, type: JobEvent['type'], status: JobStatus, fields: Fields): void;
  runBatch(batch: LiveJob): void;
}

/**
 * Picks up, in a new process, the jobs a durable store held unfinished. Queued jobs are queued
 * again in priority order; an attempt that was running counts as interrupted and is retried per
 * the job's policy, or fails the job; a backoff or a start time is re-armed for what is left of
 * it; cron and recurring jobs continue from now; a batch goes on with the children not yet done.
 * Delivery is therefore at least once: an attempt cut off by the crash runs again.
 */
export function resumeJobs(recovered: readonly RecoveredJob[], hooks: ResumeHooks): void {
  const now = hooks.scheduler.now();
  const jobs = new Map<string, [LiveJob, RecoveredJob]>();
  for (const entry of recovered) {
    const { definition, snapshot } = entry;
    const job = new LiveJob(
      fromDefinition(definition, hooks.registry),
      definition.id,
      definition.parentId,
    );
    job.status = snapshot.status;
    job.runs = snapshot.runs;
    job.nextRunAt = snapshot.nextRunAt;
    hooks.adopt(job);
    jobs.set(job.id, [job, entry]);
  }
  for (const [job, { definition }] of jobs.values()) {
    if (definition.childIds !== undefined) {
      job.children = definition.childIds.map(
        (id) => jobs.get(id)?.[0] ?? endedChild(id, job, hooks),
      );
    }
  }

  const queued: [LiveJob, RecoveredJob][] = [];
  const repeating: [LiveJob, ResumeOptions][] = [];
  for (const [job, entry] of jobs.values()) {
    if (job.spec.type !== 'batch' && job.spec.handler === undefined) {
      const error = new TypeError(
        `No handler is defined for job name '${job.spec.name}': call scheduler.define('${job.spec.name}', handler) before start()`,
      );
      hooks.emit(job, 'failed', 'failed', {
        run: entry.run,
        attempt: entry.attempt,
        error,
        final: true,
      });
      continue;
    }
    const isRepeating = job.spec.type === 'cron' || job.spec.type === 'recurring';
    const { status, nextRunAt, createdAt } = entry.snapshot;
    // How its last run ended, if one ran (a skipped fire takes a run number but runs nothing):
    // a last fire that cannot run ends the job with it.
    if (isRepeating && entry.snapshot.attempts > 0) job.lastRun = lastRunOf(entry.snapshot);
    if (job.spec.type === 'batch') {
      hooks.runBatch(job);
      continue;
    }
    if (status === 'queued') queued.push([job, entry]);
    else if (status === 'running') resumeInterrupted(job, entry, now, hooks);
    else if (status === 'retrying')
      hooks.retryLater(job, entry.run, entry.attempt + 1, entry.retryAt ?? now);
    else if (status === 'pending' && job.parentId === undefined && !isRepeating)
      hooks.begin(job, { createdAt });
    if (isRepeating) {
      // Fires came due while no process ran: one stands for all, run or skipped per `missedRuns`.
      // Behind a retry, `overlap: 'queue'` held a fire the store never heard of: it fires again
      // on the schedule, and nothing else stands for the fires missed.
      const heldBehindRetry = status === 'retrying' && job.spec.overlap === 'queue';
      const missed = nextRunAt !== undefined && nextRunAt <= now && !heldBehindRetry;
      repeating.push([job, missed ? { createdAt, missedFireAt: nextRunAt } : { createdAt }]);
    } else if (status !== 'pending' || job.parentId === undefined) {
      job.sourceDone = true;
    }
  }
  // A stable sort: equal priorities keep their submission order.
  queued.sort(([a], [b]) => b.spec.priority - a.spec.priority);
  for (const [job, entry] of queued) hooks.enqueue(job, entry.run, Math.max(1, entry.attempt));
  // Armed once their queued runs are back: a schedule with no fire left must find the job busy
  // with its last run, not idle, or it would end the job before that run.
  for (const [job, options] of repeating) hooks.begin(job, options);
}

/** A repeating job's last outcome as its snapshot shows it: an error, or else the result. */
function lastRunOf(snapshot: JobSnapshot): LiveJob['lastRun'] {
  return 'error' in snapshot
    ? { ok: false, value: snapshot.error }
    : { ok: true, value: snapshot.result };
}

/** The attempt that was running when the process died: retried if the policy allows. */
function resumeInterrupted(
  job: LiveJob,
  entry: RecoveredJob,
  now: number,
  hooks: ResumeHooks,
): void {
  const attempt = Math.max(1, entry.attempt);
  const error = new JobInterruptedError(job.id, attempt);
  const repeating = job.spec.type === 'cron' || job.spec.type === 'recurring';
  if (attempt < job.spec.retryPolicy.maxAttempts) {
    hooks.emit(job, 'retrying', 'retrying', { run: entry.run, attempt, error, retryAt: now });
    hooks.retryLater(job, entry.run, attempt + 1, now);
    return;
  }
  // A repeating job lives on, only this run failed, unless it was the last its schedule had.
  const { timing } = job.spec;
  const final = !repeating || (timing.kind === 'interval' && job.runs >= timing.maxRuns);
  if (repeating) job.lastRun = { ok: false, value: error };
  hooks.emit(job, 'failed', final ? 'failed' : 'pending', {
    run: entry.run,
    attempt,
    error,
    final,
  });
}

/** A batch child that had ended before the restart: settled at once, with its stored outcome. */
function endedChild(id: string, parent: LiveJob, hooks: ResumeHooks): LiveJob {
  const snapshot = hooks.store.get(id);
  const child = new LiveJob(
    fromDefinition({ ...placeholderDefinition(id, parent) }, hooks.registry),
    id,
    parent.id,
  );
  child.status = snapshot?.status ?? 'failed';
  const ok = snapshot?.status === 'completed';
  child.settle(
    ok,
    ok
      ? snapshot?.result
      : (snapshot?.error ?? new Error(`The outcome of job '${id}' was not kept`)),
  );
  return child;
}

function placeholderDefinition(id: string, parent: LiveJob) {
  return {
    id,
    name: parent.spec.name,
    type: 'immediate' as const,
    priority: parent.spec.priority,
    payload: undefined,
    timing: { kind: 'now' as const },
    retryPolicy: parent.spec.retryPolicy,
    timeout: parent.spec.timeout,
    overlap: 'skip' as const,
    missedRuns: 'skip' as const,
    concurrency: 1,
    parentId: parent.id,
  };
}
