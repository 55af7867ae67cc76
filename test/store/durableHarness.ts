import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { map, type Observable, throwError, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { expect } from 'vitest';
import { type JobEvent, JobScheduler, type SchedulerConfig } from '../../src/index.js';
import type { DurableJobStore } from '../../src/jobStore.js';
import { type StoreWriteError, sqliteStore } from '../../src/sqlite.js';
import { withEpoch } from '../helpers/epochScheduler.js';

export function tempDbPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'rxjobs-store-')), 'jobs.db');
}

export interface DurableRun {
  readonly scheduler: JobScheduler;
  readonly testScheduler: TestScheduler;
  readonly store: DurableJobStore;
  /** Every event as `at:type:id#run.attempt`, `at` relative to the epoch given. */
  readonly log: string[];
  /** Every event as it was sent. */
  readonly events: JobEvent[];
}

/** Handlers by name, on virtual time: `sleep` takes `payload` ms; `flaky` fails attempt 1. */
function defineHandlers(scheduler: JobScheduler, testScheduler: TestScheduler): void {
  const sleep = (ms: number): Observable<number> => timer(ms, testScheduler).pipe(map(() => ms));
  scheduler.define('sleep', (ms: number) => sleep(ms));
  scheduler.define('flaky', (ms: number, { attempt }) =>
    attempt === 1 ? throwError(() => new Error('first attempt fails')) : sleep(ms),
  );
}

/**
 * One process's life on a durable store, in virtual time from `epoch`: it runs `body`, then
 * virtual time advances to `until` (ms after `epoch`) and the process "dies" there: the store is
 * closed with whatever was written, and nothing after that point runs.
 */
export function lifetime(
  path: string,
  config: SchedulerConfig,
  epoch: number,
  until: number,
  body: (run: DurableRun) => void,
  { defineHandlers: define = true } = {},
): DurableRun {
  const testScheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  testScheduler.maxFrames = until;
  const store = sqliteStore({ path });
  const scheduler = new JobScheduler({
    metricsInterval: Number.POSITIVE_INFINITY,
    retention: Number.POSITIVE_INFINITY,
    ...config,
    store,
    scheduler: withEpoch(testScheduler, epoch),
  });
  if (define) defineHandlers(scheduler, testScheduler);
  const log: string[] = [];
  const events: JobEvent[] = [];
  scheduler.events$.subscribe((event) => {
    events.push(event);
    log.push(`${event.at - epoch}:${event.type}:${event.jobId}#${event.run}.${event.attempt}`);
  });
  const run = { scheduler, testScheduler, store: store as DurableJobStore, log, events };
  body(run);
  testScheduler.flush();
  // The process dies here: what the store wrote is what the next one finds.
  store.close();
  return run;
}

export interface LiveDurableRun {
  readonly scheduler: JobScheduler;
  readonly testScheduler: TestScheduler;
  readonly store: DurableJobStore;
  /** What the store reported through `onWriteError`. */
  readonly errors: StoreWriteError[];
}

/**
 * A started scheduler on a durable store at `path` and on virtual time, which the test drives
 * (`testScheduler.flush()`), with a `send` handler defined. Unlike `lifetime`, it stays alive
 * across event-loop turns, so the store's own flushes run between the test's steps.
 */
export function liveDurable(path = tempDbPath()): LiveDurableRun {
  const testScheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  const errors: StoreWriteError[] = [];
  const store = sqliteStore({ path, onWriteError: (error) => errors.push(error) });
  const scheduler = new JobScheduler({
    store,
    scheduler: testScheduler,
    metricsInterval: Number.POSITIVE_INFINITY,
  });
  scheduler.define('send', (to: string) => `sent to ${to}`);
  void scheduler.start();
  return { scheduler, testScheduler, store: store as DurableJobStore, errors };
}
