import { of } from 'rxjs';
import { describe, expectTypeOf, it } from 'vitest';
import {
  type BatchChildInput,
  type JobEvent,
  type JobEventOf,
  type JobFailedEvent,
  type JobHandle,
  type JobHandler,
  type JobInput,
  type JobOptions,
  JobScheduler,
} from '../../src/index.js';

const scheduler = new JobScheduler();

describe('submitJob', () => {
  it('infers the result from the handler, whatever it returns', () => {
    expectTypeOf(
      scheduler.submitJob({ name: 'len', payload: 'abc', handler: async (text) => text.length }),
    ).toEqualTypeOf<JobHandle<number>>();
    expectTypeOf(scheduler.submitJob({ name: 'sync', handler: () => 'done' })).toEqualTypeOf<
      JobHandle<string>
    >();
    expectTypeOf(scheduler.submitJob({ name: 'obs', handler: () => of(true) })).toEqualTypeOf<
      JobHandle<boolean>
    >();
  });

  it('checks the payload against the handler', () => {
    const pick: JobHandler<'a' | 'b', string> = async (choice) => choice;
    scheduler.submitJob({ name: 'pick', payload: 'a', handler: pick });
    // @ts-expect-error a string is not one of the handler's payloads
    scheduler.submitJob({ name: 'pick', payload: 'zzz' as string, handler: pick });
    // @ts-expect-error the handler reads a string that is never given
    scheduler.submitJob({ name: 'upper', handler: async (text: string) => text.toUpperCase() });
    // A handler that can take undefined, or no payload at all, needs none.
    scheduler.submitJob({ name: 'maybe', handler: (text: string | undefined) => text ?? '' });
    scheduler.submitJob({ name: 'none', handler: () => 1 });
  });

  it('takes a job by name, for define(), without a handler', () => {
    scheduler.submitJob({ name: 'send_email', payload: 'ada@example.com' });
  });

  it('ties type to schedule and jobs', () => {
    const handler = () => 1;
    scheduler.submitJob({
      name: 'nightly',
      type: 'cron',
      schedule: { type: 'cron', cronExpr: '0 0 * * *' },
      handler,
    });
    // @ts-expect-error a cron job needs its schedule, as in Go's JobTypeCron
    scheduler.submitJob({ name: 'nightly', type: 'cron', handler });
    scheduler.submitJob({
      name: 'x',
      type: 'immediate',
      // @ts-expect-error an immediate job has no schedule
      schedule: { type: 'cron', cronExpr: '* * * * *' },
      handler,
    });
    // @ts-expect-error a batch needs its jobs
    scheduler.submitJob({ name: 'x', type: 'batch' });
  });

  it('refuses fields that would do nothing for the kind of job', () => {
    const handler = () => 1;
    scheduler.submitJob({
      name: 'tick',
      schedule: { type: 'interval', every: 1000 },
      overlap: 'queue',
      handler,
    });
    // @ts-expect-error only jobs that repeat take overlap
    scheduler.submitJob({ name: 'once', overlap: 'queue', handler });
    // @ts-expect-error only a batch takes concurrency
    scheduler.submitJob({ name: 'one', concurrency: 2, handler });
    // @ts-expect-error a batch's jobs have the handlers
    scheduler.submitJob({ name: 'b', handler, jobs: [{ name: 'c', handler }] });
    // @ts-expect-error a batch runs now: jobs do not go with a schedule
    scheduler.submitJob({
      name: 'later',
      schedule: { type: 'once', startTime: 0 },
      jobs: [{ name: 'c', handler }],
    });
  });

  it('lets a batch, and a list of jobs, mix payload types', () => {
    const double: JobHandler<number, number> = (n) => n * 2;
    const shout: JobHandler<string, string> = (text) => text.toUpperCase();
    const children: BatchChildInput[] = [
      { name: 'double', payload: 2, handler: double },
      { name: 'shout', payload: 'hi', handler: shout },
    ];
    scheduler.submitJob({ name: 'both', jobs: children, concurrency: 2 });
    const inputs: JobInput[] = [
      { name: 'tick', schedule: { type: 'interval', every: 10 }, payload: 2, handler: double },
      { name: 'shout', payload: 'hi', handler: shout },
    ];
    for (const input of inputs) scheduler.submitJob(input);
    // @ts-expect-error without a type of its own, a handler's payload in a list is never
    const untyped: JobInput = { name: 'a', payload: 2, handler: (n) => n.toUpperCase() };
    const cronChild: BatchChildInput = {
      name: 'c',
      // @ts-expect-error a batch's children run now: no cron child
      schedule: { type: 'cron', cronExpr: '* * * * *' },
    };
    void [untyped, cronChild];
  });

  it('takes a generic wrapper, an options object and a registry of handlers', () => {
    function enqueue<P, R>(name: string, payload: P, handler: JobHandler<P, R>): JobHandle<R> {
      return scheduler.submitJob({ name, payload, handler });
    }
    expectTypeOf(enqueue('len', 'abc', (text) => text.length)).toEqualTypeOf<JobHandle<number>>();
    const options: JobOptions = { priority: 2, timeout: 1000 };
    scheduler.submitJob({ ...options, name: 'with-options', handler: () => 1 });
    const registry: Record<string, JobHandler<never>> = {
      email: async (to: string) => to,
      resize: (ms: number) => ms,
    };
    for (const [name, handler] of Object.entries(registry)) scheduler.define(name, handler);
    scheduler.define('x', () => 1, { priority: undefined, timeout: undefined });
  });

  it('takes undefined for a field left out, under exactOptionalPropertyTypes', () => {
    scheduler.submitJob({ name: 'x', handler: () => 1, timeout: undefined, priority: undefined });
    void scheduler.stop({ drain: undefined, timeout: undefined });
  });
});

describe('events$', () => {
  it('switches on the event type', () => {
    scheduler.events$.subscribe((event) => {
      expectTypeOf(event).toEqualTypeOf<JobEvent>();
      switch (event.type) {
        case 'submitted':
        case 'queued':
        case 'started':
        case 'retrying':
        case 'completed':
        case 'failed':
        case 'cancelled':
        case 'skipped':
          break;
        default:
          expectTypeOf(event).toEqualTypeOf<never>();
      }
    });
  });

  it('narrows each type to the fields its events carry', () => {
    scheduler.events$.subscribe((event) => {
      switch (event.type) {
        case 'submitted':
          expectTypeOf(event.job.name).toEqualTypeOf<string>();
          expectTypeOf(event.previous).toEqualTypeOf<undefined>();
          break;
        case 'started':
          expectTypeOf(event.waitTime).toEqualTypeOf<number>();
          expectTypeOf(event.previous).toEqualTypeOf<JobEvent['status']>();
          break;
        case 'retrying':
          expectTypeOf(event.retryAt).toEqualTypeOf<number>();
          expectTypeOf(event.execTime).toEqualTypeOf<number | undefined>();
          expectTypeOf(event.result).toEqualTypeOf<undefined>();
          break;
        case 'skipped':
          expectTypeOf(event.reason).toEqualTypeOf<'overlap' | 'queue-full' | 'missed'>();
          break;
        default:
          break;
      }
    });
  });

  it('reads any field before narrowing, as undefined where the type has none', () => {
    scheduler.events$.subscribe((event) => {
      expectTypeOf(event.retryAt).toEqualTypeOf<number | undefined>();
      expectTypeOf(event.error).toEqualTypeOf<unknown>();
      expectTypeOf(event.previous).toEqualTypeOf<JobEvent['status'] | undefined>();
    });
  });

  it('passes an event where a type with some of its fields optional is expected', () => {
    const logTiming = (event: { type: string; execTime?: number; waitTime?: number }) => event;
    scheduler.events$.subscribe((event) => logTiming(event));
  });

  it('names the event of one type', () => {
    expectTypeOf<JobEventOf<'failed'>>().toEqualTypeOf<JobFailedEvent>();
    const failures = (event: JobEvent): event is JobEventOf<'failed'> => event.type === 'failed';
    scheduler.events$.subscribe((event) => {
      if (failures(event)) expectTypeOf(event.error).toEqualTypeOf<unknown>();
    });
  });
});
