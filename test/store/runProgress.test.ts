import { describe, expect, it } from 'vitest';
import { RunProgress } from '../../src/runProgress.js';
import type { JobEvent } from '../../src/types.js';

/** A non-final event of job `j`, as far as RunProgress reads one. */
function event(type: JobEvent['type'], run: number, attempt: number, retryAt?: number): JobEvent {
  return {
    type,
    jobId: 'j',
    at: 0,
    run,
    attempt,
    final: false,
    status: 'pending',
    ...(retryAt === undefined ? {} : { retryAt }),
  } as JobEvent;
}

function follow(...events: JobEvent[]): RunProgress {
  const progress = new RunProgress();
  for (const each of events) progress.track(each);
  return progress;
}

describe('RunProgress: the run a durable row records', () => {
  it('follows one run through its attempts', () => {
    const progress = follow(
      event('queued', 1, 1),
      event('started', 1, 1),
      event('retrying', 1, 1, 500),
    );
    expect(progress.slot('j', 'retrying')).toMatchObject({ run: 1, attempt: 1, retryAt: 500 });
    progress.track(event('started', 1, 2));
    expect(progress.slot('j', 'running')).toMatchObject({ run: 1, attempt: 2, retryAt: undefined });
  });

  it('records a queued run, not a later one that started and ended beside it', () => {
    const progress = follow(
      event('queued', 2, 2),
      event('queued', 3, 2),
      event('started', 2, 2),
      event('completed', 2, 2),
    );
    expect(progress.slot('j', 'queued')).toMatchObject({ run: 3, attempt: 2 });
  });

  it("records the run in the state the row's status names, of several under way", () => {
    // Run 1 waits out a backoff while run 2 is queued, then runs.
    const progress = follow(
      event('queued', 1, 1),
      event('started', 1, 1),
      event('queued', 2, 1),
      event('retrying', 1, 1, 900),
    );
    expect(progress.slot('j', 'queued')).toMatchObject({ run: 2, attempt: 1 });
    expect(progress.slot('j', 'retrying')).toMatchObject({ run: 1, attempt: 1, retryAt: 900 });
    progress.track(event('started', 2, 1));
    expect(progress.slot('j', 'running')).toMatchObject({ run: 2, attempt: 1 });
    progress.track(event('completed', 2, 1));
    expect(progress.slot('j', 'retrying')).toMatchObject({ run: 1, retryAt: 900 });
  });

  it('lets an earlier run that comes back take the first place', () => {
    const progress = follow(
      event('queued', 3, 1),
      event('retrying', 2, 1, 700),
      event('started', 3, 1),
      event('completed', 3, 1),
    );
    expect(progress.slot('j', 'retrying')).toMatchObject({ run: 2, attempt: 1, retryAt: 700 });
  });

  it('keeps the last run that ended when none is left, and forgets a job that has ended', () => {
    const progress = follow(event('queued', 4, 1), event('started', 4, 1));
    progress.track(event('completed', 4, 1));
    expect(progress.slot('j', 'pending')).toMatchObject({ run: 4, attempt: 1 });
    progress.track(event('queued', 5, 1));
    expect(progress.slot('j', 'queued')).toMatchObject({ run: 5, attempt: 1 });
    progress.track({ ...event('completed', 5, 1), final: true } as JobEvent);
    expect(progress.slot('j', 'completed')).toBeUndefined();
  });

  it('lets the next run replace a restored run that had ended, and not one still queued', () => {
    const ended = new RunProgress();
    ended.restore('j', { run: 1, attempt: 1, retryAt: undefined }, 'pending');
    ended.track(event('queued', 2, 1));
    expect(ended.slot('j', 'queued')).toMatchObject({ run: 2 });
    const queued = new RunProgress();
    queued.restore('j', { run: 1, attempt: 1, retryAt: undefined }, 'queued');
    queued.track(event('queued', 2, 1));
    expect(queued.slot('j', 'queued')).toMatchObject({ run: 1 });
  });
});
