// Marble-testing your own job pipeline: a JobScheduler on a TestScheduler runs in virtual time,
// so the order in which jobs start and the exact moment of each retry are asserted with marble
// diagrams, without waiting. Run it with `npx tsx examples/marble-testing.ts`; it throws if an
// assertion fails. In a test runner, pass the runner's own deep-equal to the TestScheduler.
import { deepStrictEqual } from 'node:assert/strict';
import { filter, map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { type JobInput, JobScheduler, Priority, type StopReport } from '../src/index.js';

const testScheduler = new TestScheduler((actual, expected) => deepStrictEqual(actual, expected));

let stopped: Promise<StopReport> | undefined;
testScheduler.run(({ cold, expectObservable }) => {
  // One worker, so every job but the first waits, and the queue's order shows.
  const scheduler = new JobScheduler({ scheduler: testScheduler, maxWorkers: 1 });
  // With the in-memory store start() takes effect at once; the callback cannot await anyway.
  void scheduler.start();

  // Each job takes three frames of work: `--x|` completes on frame 3.
  const work = () => cold('--x|');
  const jobs: Record<string, JobInput> = {
    a: { id: 'a', name: 'low', priority: Priority.Low, handler: work },
    b: { id: 'b', name: 'normal', priority: Priority.Normal, handler: work },
    c: { id: 'c', name: 'high', priority: Priority.High, handler: work },
    f: {
      id: 'f',
      name: 'flaky',
      // Fails one frame into attempts 1 and 2, succeeds on attempt 3.
      handler: (_payload, { attempt }) => (attempt < 3 ? cold('-#') : cold('--x|')),
      retryPolicy: { maxAttempts: 3, initialDelay: 10, backoffFactor: 2 },
    },
  };

  const started$ = scheduler.events$.pipe(
    filter((event) => event.type === 'started'),
    map((event) => `${event.jobId}${event.attempt}`),
  );
  const retryAt$ = scheduler.events$.pipe(
    filter((event) => event.type === 'retrying'),
    map((event) => event.retryAt),
  );

  // One frame per character, the rows aligned. `a` takes the free worker at once; `c` outranks
  // `b` when `a` ends on frame 3. The flaky job fails on frames 11 and 22, then waits 10 and
  // 20 frames (initialDelay 10, backoffFactor 2) before attempts 2 and 3.
  // frame:        0         10        20        30        40        50
  const submits = '(abc)-----f';
  const started = 'a--c--b---f----------g--------------------h-------|';
  const retries = '-----------r----------s---------------------------|';
  const stopsAt = '--------------------------------------------------s';

  expectObservable(started$).toBe(started, {
    a: 'a1',
    b: 'b1',
    c: 'c1',
    f: 'f1',
    g: 'f2',
    h: 'f3',
  });
  expectObservable(retryAt$).toBe(retries, { r: 21, s: 42 });

  // events$ is hot, so the jobs go in from a cold diagram, whose frame-0 values come after the
  // expectations above have subscribed.
  cold(submits, jobs).subscribe((input) => scheduler.submitJob(input));
  // Stopping ends the metrics timer, which would otherwise keep flush() going for ever.
  cold(stopsAt).subscribe(() => {
    stopped = scheduler.stop();
  });
});

// Every job had ended by frame 50, so the stop had nothing to cancel.
deepStrictEqual(await stopped, { cancelled: [], kept: [], finishedDuringStop: 0 });
console.log('marble test passed');
