import { type MonoTypeOperatorFunction, type Observable, type OperatorFunction, of } from 'rxjs';
import { describe, expectTypeOf, it } from 'vitest';
import {
  type BackoffJitter,
  backoffDelay,
  fromHandler,
  isJobTimeoutError,
  JobTimeoutError,
  jobTimeout,
  type PriorityMergeMapOptions,
  priorityMergeMap,
  type RetryPolicy,
  retryBackoff,
  type SignalHandler,
} from '../../operators/index.js';

interface Job {
  readonly url: string;
  readonly priority: number;
}

const jobs$ = of<Job>({ url: '/a', priority: 1 });

describe('priorityMergeMap', () => {
  it('infers R from a project returning an Observable', () => {
    const operator = priorityMergeMap((job: Job) => of(job.url.length), {
      concurrency: 2,
      priority: (job) => job.priority,
    });
    expectTypeOf(operator).toEqualTypeOf<OperatorFunction<Job, number>>();
    expectTypeOf(jobs$.pipe(operator)).toEqualTypeOf<Observable<number>>();
  });

  it('infers R from a project returning a Promise, an array or an iterable', () => {
    expectTypeOf(
      jobs$.pipe(
        priorityMergeMap(async (job) => ({ url: job.url, ok: true }), {
          concurrency: 1,
          priority: (job) => job.priority,
        }),
      ),
    ).toEqualTypeOf<Observable<{ url: string; ok: boolean }>>();
    expectTypeOf(
      jobs$.pipe(priorityMergeMap((job) => [job.url], { concurrency: 1, priority: () => 0 })),
    ).toEqualTypeOf<Observable<string>>();
  });

  it('infers T for priority and onOverflow from the source, and passes project an index', () => {
    jobs$.pipe(
      priorityMergeMap(
        (job, index) => {
          expectTypeOf(job).toEqualTypeOf<Job>();
          expectTypeOf(index).toEqualTypeOf<number>();
          return of(job);
        },
        {
          concurrency: 1,
          priority: (job) => {
            expectTypeOf(job).toEqualTypeOf<Job>();
            return job.priority;
          },
          capacity: 10,
          onOverflow: (job) => expectTypeOf(job).toEqualTypeOf<Job>(),
        },
      ),
    );
  });

  it('types its options', () => {
    expectTypeOf<PriorityMergeMapOptions<Job>>()
      .toHaveProperty('concurrency')
      .toEqualTypeOf<number>();
    expectTypeOf<PriorityMergeMapOptions<Job>['priority']>().toEqualTypeOf<
      (value: Job) => number
    >();
    expectTypeOf<PriorityMergeMapOptions<Job>['onOverflow']>().toEqualTypeOf<
      ((value: Job) => void) | undefined
    >();
    // @ts-expect-error capacity comes with onOverflow: a bounded queue says what it turns away
    priorityMergeMap((job: Job) => of(job), { concurrency: 1, priority: () => 0, capacity: 5 });
    // @ts-expect-error priority is required
    priorityMergeMap((job: Job) => of(job), { concurrency: 1 });
    // @ts-expect-error priority must return a number
    priorityMergeMap((job: Job) => of(job), { concurrency: 1, priority: (job) => job.url });
    // @ts-expect-error exactOptionalPropertyTypes: undefined is not an aging
    priorityMergeMap((job: Job) => of(job), {
      concurrency: 1,
      priority: () => 0,
      aging: undefined,
    });
    // @ts-expect-error project must return an ObservableInput
    priorityMergeMap((job: Job) => job.priority, { concurrency: 1, priority: () => 0 });
  });
});

describe('retryBackoff and backoffDelay', () => {
  const policy: RetryPolicy = {
    maxAttempts: 3,
    initialDelay: 100,
    maxDelay: 1000,
    backoffFactor: 2,
  };

  it('keeps the value type', () => {
    expectTypeOf(retryBackoff<string>(policy)).toEqualTypeOf<MonoTypeOperatorFunction<string>>();
    expectTypeOf(jobs$.pipe(retryBackoff(policy))).toEqualTypeOf<Observable<Job>>();
  });

  it('types the policy', () => {
    expectTypeOf<RetryPolicy['jitter']>().toEqualTypeOf<BackoffJitter | undefined>();
    expectTypeOf<BackoffJitter>().toEqualTypeOf<'none' | 'full' | 'equal'>();
    expectTypeOf<NonNullable<RetryPolicy['retryIf']>>().parameters.toEqualTypeOf<
      [error: unknown, attempt: number]
    >();
    // @ts-expect-error maxAttempts is required
    retryBackoff({ initialDelay: 1, maxDelay: 1, backoffFactor: 1 });
    // @ts-expect-error an unknown jitter
    retryBackoff({ ...policy, jitter: 'half' });
  });

  it('backoffDelay takes only the fields it needs and returns a number', () => {
    expectTypeOf(backoffDelay).returns.toEqualTypeOf<number>();
    expectTypeOf(
      backoffDelay({ initialDelay: 1, maxDelay: 2, backoffFactor: 2 }, 1),
    ).toEqualTypeOf<number>();
    expectTypeOf(backoffDelay).parameter(2).toEqualTypeOf<(() => number) | undefined>();
    // @ts-expect-error initialDelay is required
    backoffDelay({ maxDelay: 2, backoffFactor: 2 }, 1);
  });
});

describe('jobTimeout', () => {
  it('keeps the value type', () => {
    expectTypeOf(jobTimeout<number>(1000)).toEqualTypeOf<MonoTypeOperatorFunction<number>>();
    expectTypeOf(jobs$.pipe(jobTimeout(1000))).toEqualTypeOf<Observable<Job>>();
  });

  it('JobTimeoutError is an Error with a literal name and ms', () => {
    const error = new JobTimeoutError(5);
    expectTypeOf(error).toMatchTypeOf<Error>();
    expectTypeOf(error.name).toEqualTypeOf<'JobTimeoutError'>();
    expectTypeOf(error.ms).toEqualTypeOf<number>();
    expectTypeOf(JobTimeoutError).constructorParameters.toEqualTypeOf<[ms: number]>();
  });

  it('isJobTimeoutError narrows unknown', () => {
    const error: unknown = new JobTimeoutError(5);
    if (isJobTimeoutError(error)) expectTypeOf(error).toEqualTypeOf<JobTimeoutError>();
    expectTypeOf(isJobTimeoutError).guards.toEqualTypeOf<JobTimeoutError>();
  });
});

describe('fromHandler', () => {
  it('unwraps a Promise', () => {
    expectTypeOf(fromHandler(() => Promise.resolve(1))).toEqualTypeOf<Observable<number>>();
    expectTypeOf(fromHandler(async () => 'done')).toEqualTypeOf<Observable<string>>();
  });

  it('unwraps an Observable', () => {
    expectTypeOf(fromHandler(() => of('a'))).toEqualTypeOf<Observable<string>>();
  });

  it('keeps a plain value, an array as one value', () => {
    expectTypeOf(fromHandler(() => 42)).toEqualTypeOf<Observable<number>>();
    expectTypeOf(fromHandler(() => [1, 2])).toEqualTypeOf<Observable<number[]>>();
  });

  it('hands the handler a context with a read-only AbortSignal', () => {
    fromHandler((context) => {
      expectTypeOf(context.signal).toEqualTypeOf<AbortSignal>();
      // @ts-expect-error the signal is read-only
      context.signal = new AbortController().signal;
      return 1;
    });
    expectTypeOf<SignalHandler<string>>().returns.toEqualTypeOf<
      string | PromiseLike<string> | Observable<string>
    >();
  });

  it('takes abortReason as a function', () => {
    fromHandler(() => 1, { abortReason: () => new Error('stop') });
    // @ts-expect-error abortReason is a function, not the reason itself
    fromHandler(() => 1, { abortReason: new Error('stop') });
  });
});
