import fc from 'fast-check';
import { map, Observable, timer } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import type { JobInput, SchedulerConfig } from '../../src/index.js';

/** One generated job: when it arrives, what it is, and how each of its attempts behaves. */
export interface JobPlan {
  readonly submitAt: number;
  readonly kind: 'immediate' | 'scheduled' | 'recurring' | 'cron' | 'batch';
  readonly priority: number;
  readonly duration: number;
  /** Attempt n fails when `failures[n - 1]` is true; attempts past the list succeed. */
  readonly failures: readonly boolean[];
  readonly timeout: number | undefined;
  readonly cancelAt: number | undefined;
  readonly overlap: 'skip' | 'queue' | 'allow';
}

export interface WorkloadPlan {
  readonly config: {
    readonly [K in
      | 'maxWorkers'
      | 'queueSize'
      | 'retryAttempts'
      | 'retryDelay'
      | 'jobTimeout'
      | 'enablePriority'
      | 'aging']-?: NonNullable<SchedulerConfig[K]>;
  };
  readonly jobs: readonly JobPlan[];
  readonly stopAt: number;
  readonly drain: boolean;
  readonly stopTimeout: number;
}

const jobPlan: fc.Arbitrary<JobPlan> = fc.record({
  submitAt: fc.integer({ min: 0, max: 400 }),
  kind: fc.constantFrom(
    'immediate',
    'immediate',
    'immediate',
    'scheduled',
    'recurring',
    'cron',
    'batch',
  ),
  priority: fc.integer({ min: 0, max: 3 }),
  duration: fc.integer({ min: 0, max: 80 }),
  failures: fc.array(fc.boolean(), { maxLength: 3 }),
  timeout: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
  cancelAt: fc.option(fc.integer({ min: 0, max: 600 }), { nil: undefined }),
  overlap: fc.constantFrom('skip', 'queue', 'allow'),
});

export const workloadPlan: fc.Arbitrary<WorkloadPlan> = fc.record({
  config: fc.record({
    maxWorkers: fc.integer({ min: 1, max: 4 }),
    queueSize: fc.integer({ min: 1, max: 30 }),
    retryAttempts: fc.integer({ min: 1, max: 3 }),
    retryDelay: fc.integer({ min: 0, max: 60 }),
    jobTimeout: fc.integer({ min: 20, max: 200 }),
    enablePriority: fc.boolean(),
    aging: fc.constantFrom(0, 0, 25, 100),
  }),
  jobs: fc.array(jobPlan, { minLength: 1, maxLength: 25 }),
  stopAt: fc.integer({ min: 0, max: 1000 }),
  drain: fc.boolean(),
  stopTimeout: fc.integer({ min: 0, max: 300 }),
});

/**
 * Counts handlers that are running, to check the worker limit from the handlers' side. A handler
 * stops running when it completes or errors, or when it is unsubscribed before that.
 */
export class HandlerProbe {
  running = 0;
  peak = 0;

  wrap<T>(source: Observable<T>): Observable<T> {
    return new Observable<T>((subscriber) => {
      this.running += 1;
      this.peak = Math.max(this.peak, this.running);
      let ended = false;
      const end = () => {
        if (!ended) {
          ended = true;
          this.running -= 1;
        }
      };
      const subscription = source.subscribe({
        next: (value) => subscriber.next(value),
        error: (error: unknown) => {
          end();
          subscriber.error(error);
        },
        complete: () => {
          end();
          subscriber.complete();
        },
      });
      return () => {
        end();
        subscription.unsubscribe();
      };
    });
  }
}

/** The input that a plan submits; its handler takes `duration` virtual ms, then fails or succeeds. */
export function toJobInput(
  plan: JobPlan,
  index: number,
  testScheduler: TestScheduler,
  probe: HandlerProbe,
): JobInput {
  const handler = (_payload: unknown, { attempt }: { attempt: number }) =>
    probe.wrap(
      timer(plan.duration, testScheduler).pipe(
        map(() => {
          if (plan.failures[attempt - 1] === true)
            throw new Error(`job${index} attempt ${attempt}`);
          return index;
        }),
      ),
    );
  const base = {
    name: `job${index}`,
    priority: plan.priority,
    handler,
    ...(plan.timeout === undefined ? {} : { timeout: plan.timeout }),
  };
  switch (plan.kind) {
    case 'immediate':
      return base;
    case 'scheduled':
      return { ...base, schedule: { type: 'once', startTime: plan.submitAt + plan.duration * 2 } };
    case 'recurring':
      return {
        ...base,
        overlap: plan.overlap,
        schedule: { type: 'interval', every: 40 + plan.duration, maxRuns: 3 },
      };
    case 'cron':
      return {
        ...base,
        overlap: plan.overlap,
        schedule: { type: 'cron', cronExpr: '*/1 * * * * *' },
      };
    case 'batch':
      return {
        name: `job${index}`,
        priority: plan.priority,
        concurrency: 2,
        jobs: [0, 1, 2].map((child) => ({ ...base, name: `job${index}.${child}` })),
      };
  }
}
