import type { JobCancelledError } from './errors.js';
import type { LiveJob, QueuedRun } from './liveJob.js';
import type {
  JobCancelledEvent,
  JobDefinition,
  JobEvent,
  JobQueuedEvent,
  JobSnapshot,
  JobStartedEvent,
  JobStatus,
  JobSubmittedEvent,
  JobType,
} from './types.js';

/**
 * The fields an event may carry besides those every event has: any of them, for the lifecycle to
 * give those its event's type carries.
 */
export type EventFields = Partial<Omit<JobEvent, 'type' | 'jobId' | 'status' | 'previous'>>;
export type MutableEventFields = { -readonly [K in keyof EventFields]: EventFields[K] };

// Every job makes a submitted, a queued and a started event, so those three are literals of a
// fixed shape: no fields object, no Object.assign, no out-of-object property array.

/**
 * A job's snapshot as it is accepted: pending, nothing run yet. Also how a durable store rebuilds
 * it from the definition, so the intake file need not hold it. Positional, so the hot path makes
 * no object to pass.
 */
export function pendingSnapshot(
  id: string,
  name: string,
  type: JobType,
  priority: number,
  parentId: string | undefined,
  createdAt: number,
  nextRunAt: number | undefined,
): JobSnapshot {
  const snapshot: { -readonly [K in keyof JobSnapshot]: JobSnapshot[K] } = {
    id,
    name,
    type,
    priority,
    status: 'pending',
    attempts: 0,
    createdAt,
    runs: 0,
  };
  if (nextRunAt !== undefined) snapshot.nextRunAt = nextRunAt;
  if (parentId !== undefined) snapshot.parentId = parentId;
  return snapshot;
}

/** A job accepted at `now`, with its snapshot, and its definition for a durable store. */
export function submittedEvent(
  job: LiveJob,
  now: number,
  definition: JobDefinition | undefined,
): JobSubmittedEvent {
  const { spec } = job;
  const snapshot = pendingSnapshot(
    job.id,
    spec.name,
    spec.type,
    spec.priority,
    job.parentId,
    now,
    job.nextRunAt,
  );
  job.status = 'pending';
  const event: { -readonly [K in keyof JobSubmittedEvent]: JobSubmittedEvent[K] } = {
    type: 'submitted',
    jobId: job.id,
    at: now,
    attempt: 0,
    run: 0,
    final: false,
    status: 'pending',
    previous: undefined,
    job: snapshot,
    priority: spec.priority,
  };
  // Added, not spread into a copy: V8 builds a spread object key by key.
  if (definition !== undefined) event.definition = definition;
  return event;
}

/** A run entered the queue; the job is `running` still if another of its runs is. */
export function queuedEvent(job: LiveJob, queued: QueuedRun): JobQueuedEvent {
  const status = job.runningCount > 0 ? 'running' : 'queued';
  const previous = job.status;
  job.status = status;
  const { id: jobId, nextRunAt } = job;
  const { queuedAt: at, attempt, run } = queued;
  const priority = job.spec.priority;
  return nextRunAt === undefined
    ? { type: 'queued', jobId, at, attempt, run, final: false, status, previous, priority }
    : {
        type: 'queued',
        jobId,
        at,
        attempt,
        run,
        final: false,
        status,
        previous,
        priority,
        nextRunAt,
      };
}

/** An attempt got a worker at `at`, after waiting `waitTime` ms in the queue. */
export function startedEvent(run: QueuedRun, at: number, waitTime: number): JobStartedEvent {
  const { job } = run;
  const previous = job.status;
  job.status = 'running';
  return {
    type: 'started',
    jobId: job.id,
    at,
    attempt: run.attempt,
    run: run.run,
    final: false,
    status: 'running',
    previous,
    waitTime,
  };
}

/** Any other move of a job to `status` at `at`, recording the status it leaves. */
export function transitionEvent(
  job: LiveJob,
  type: JobEvent['type'],
  status: JobStatus,
  fields: EventFields,
  at: number,
): JobEvent {
  const previous = type === 'submitted' ? undefined : job.status;
  job.status = status;
  const event = {
    type,
    jobId: job.id,
    at,
    attempt: 0,
    run: 1,
    final: false,
    status,
    previous,
  };
  // Object.assign, not a spread: a third of the cost. The lifecycle gives the fields `type` has.
  return Object.assign(event, fields) as JobEvent;
}

/**
 * A job that a durable store holds for the next start(), cancelled before it was resumed: it
 * ends from the status it was stored in, with no attempt of this process.
 */
export function storedJobCancelledEvent(
  snapshot: JobSnapshot,
  error: JobCancelledError,
  at: number,
): JobCancelledEvent {
  return {
    type: 'cancelled',
    jobId: snapshot.id,
    at,
    attempt: 0,
    run: snapshot.runs,
    final: true,
    status: 'cancelled',
    previous: snapshot.status,
    error,
  };
}
