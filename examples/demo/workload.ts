// The demo's workload: a stream of jobs at all four priorities, a little more than four workers
// can keep up with, so the queue grows and higher priorities overtake; a flaky job that succeeds
// after retries; a job that times out; a cron job every 2 seconds; a batch of 50 children.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type JobHandler,
  type JobInput,
  type JobScheduler,
  Priority,
  QueueFullError,
} from '../../src/index.js';

export const BATCH = { id: 'import_csv', name: 'import_csv', total: 50 } as const;
export const CRON = {
  id: 'heartbeat',
  name: 'heartbeat',
  cronExpr: '*/2 * * * * *',
  every: 'every 2 s',
} as const;

/** Kinds of job in the stream; `weight` is how often each is picked. */
const STREAM = [
  { name: 'charge_card', priority: Priority.Critical, weight: 1, ms: [80, 200] },
  { name: 'send_email', priority: Priority.High, weight: 2, ms: [120, 300] },
  { name: 'resize_image', priority: Priority.Normal, weight: 3, ms: [200, 500] },
  { name: 'rebuild_index', priority: Priority.Low, weight: 2, ms: [300, 700] },
] as const;

/** Simulated work that a timeout, a cancel or a stop can interrupt through its signal. */
const work: JobHandler<number, string> = async (ms, { signal }) => {
  await sleep(ms, undefined, { signal });
  return `done in ${ms} ms`;
};

const flaky: JobHandler<number, string> = async (ms, { attempt, signal }) => {
  await sleep(ms, undefined, { signal });
  if (attempt < 3) throw new Error(`upstream returned 503 (attempt ${attempt})`);
  return `synced on attempt ${attempt}`;
};

export interface Workload {
  /** Submits nothing more; what was submitted is left to the scheduler's stop. */
  stop(): void;
}

/** Starts submitting; the stream runs for the first 70% of `seconds`, then the queue drains. */
export function startWorkload(scheduler: JobScheduler, seconds: number): Workload {
  const random = seeded(42);
  const between = ([low, high]: readonly [number, number]) =>
    Math.round(low + random() * (high - low));
  const totalWeight = STREAM.reduce((sum, kind) => sum + kind.weight, 0);
  const pick = () => {
    let roll = random() * totalWeight;
    for (const kind of STREAM) {
      roll -= kind.weight;
      if (roll < 0) return kind;
    }
    return STREAM[0];
  };
  const counts = new Map<string, number>();
  const nextId = (name: string) => {
    const n = (counts.get(name) ?? 0) + 1;
    counts.set(name, n);
    return `${name}-${n}`;
  };
  const submit = (input: JobInput) => {
    try {
      scheduler.submitJob(input);
    } catch (error) {
      // A burst bigger than the queue is shed, as a producer in production would.
      if (!(error instanceof QueueFullError)) throw error;
    }
  };

  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, from: number, submitOne: () => void) => {
    timers.push(
      setTimeout(() => {
        submitOne();
        timers.push(setInterval(submitOne, ms));
      }, from),
    );
  };

  submit({
    id: CRON.id,
    name: CRON.name,
    priority: Priority.Critical,
    payload: 40,
    handler: work,
    schedule: { type: 'cron', cronExpr: CRON.cronExpr },
  });
  every(250, 0, () => {
    const bursts = 2 + Math.floor(random() * 3);
    for (let i = 0; i < bursts; i += 1) {
      const kind = pick();
      const id = nextId(kind.name);
      submit({
        id,
        name: kind.name,
        priority: kind.priority,
        payload: between(kind.ms),
        handler: work,
      });
    }
  });
  every(6000, 500, () =>
    submit({
      id: nextId('sync_inventory'),
      name: 'sync_inventory',
      priority: Priority.High,
      payload: 150,
      handler: flaky,
      retryPolicy: { maxAttempts: 4, initialDelay: 400, backoffFactor: 2 },
    }),
  );
  every(7000, 800, () =>
    submit({
      id: nextId('export_report'),
      name: 'export_report',
      priority: Priority.High,
      // Five seconds of work against a one-second timeout: both attempts time out.
      payload: 5000,
      handler: work,
      timeout: 1000,
      retryPolicy: { maxAttempts: 2, initialDelay: 300 },
    }),
  );
  timers.push(
    setTimeout(() => {
      submit({
        id: BATCH.id,
        name: BATCH.name,
        concurrency: 3,
        jobs: Array.from({ length: BATCH.total }, (_, index) => ({
          id: `import_row-${index + 1}`,
          name: 'import_row',
          priority: Priority.Normal,
          payload: between([60, 180]),
          handler: work,
        })),
      });
    }, 1200),
  );

  const stop = () => {
    for (const timer of timers) clearTimeout(timer);
  };
  timers.push(setTimeout(stop, seconds * 700));
  return { stop };
}

/** mulberry32: the same workload on every run, so runs can be compared. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
