import { map, type Observable, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { expect } from 'vitest';
import type { JobEvent, SchedulerConfig } from '../../src/index.js';
import { JobScheduler } from '../../src/index.js';
import { withEpoch } from './epochScheduler.js';

export interface VirtualRun {
  readonly testScheduler: TestScheduler;
  readonly scheduler: JobScheduler;
  /** Every event, as `at:type:name[#attempt]`. */
  readonly log: string[];
  readonly events: JobEvent[];
  /** A handler that takes `ms` of virtual time and returns `value`. */
  work<T>(ms: number, value: T): () => Observable<T>;
  flush(): void;
}

/**
 * Runs `body` inside `TestScheduler.run()` with a JobScheduler on virtual time, recording its
 * events; `epoch` makes virtual frame 0 that epoch ms. A leaked timer would keep the virtual
 * clock going for ever, so frames are capped at a year.
 */
export function inVirtualTime(
  config: SchedulerConfig,
  body: (run: VirtualRun) => void,
  epoch = 0,
): void {
  const testScheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  testScheduler.run(() => {
    // Inside run(), which sets maxFrames to Infinity as it begins.
    testScheduler.maxFrames = 366 * 24 * 3600 * 1000;
    const scheduler = new JobScheduler({
      metricsInterval: Number.POSITIVE_INFINITY,
      ...config,
      scheduler: epoch === 0 ? testScheduler : withEpoch(testScheduler, epoch),
    });
    const names = new Map<string, string>();
    const log: string[] = [];
    const events: JobEvent[] = [];
    scheduler.events$.subscribe((event) => {
      if (event.job !== undefined) names.set(event.jobId, event.job.name);
      events.push(event);
      const attempt = event.attempt > 1 ? `#${event.attempt}` : '';
      log.push(`${event.at}:${event.type}:${names.get(event.jobId) ?? event.jobId}${attempt}`);
    });
    body({
      testScheduler,
      scheduler,
      log,
      events,
      work:
        <T>(ms: number, value: T) =>
        () =>
          timer(ms, testScheduler).pipe(map(() => value)),
      flush: () => testScheduler.flush(),
    });
  });
}

/** Only the entries of one event type, without the type. */
export function only(log: readonly string[], type: string): string[] {
  return log
    .filter((line) => line.split(':')[1] === type)
    .map((line) => line.replace(`:${type}:`, ':'));
}
