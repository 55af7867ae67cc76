/**
 * Workload 3: submit-to-start latency at a steady load of half the capacity. Capacity is each
 * contender's own rate on a burst of no-op jobs, measured first in the same run; the load is then
 * offered at half that rate, spread over event-loop turns, and each job's latency is the time
 * from its `submitJob` (or `add`) call to the first line of its handler.
 *
 * Each round opens a fresh queue and offers the load for `warmupSeconds` before any latency is
 * kept: the first tenth of a second on a new queue, while the heap regrows after the collection
 * before it, had spikes of 5 to 25 ms in every contender, which said more about the collection
 * than about steady load. The figures are medians over `rounds`.
 */
import PQueue from 'p-queue';
import type { Library } from './build.js';
import { collectGarbage, median, percentile, settle } from './harness.js';
import { type Figure, goal, type WorkloadResult } from './report.js';

export interface LatencyOptions {
  /** Seconds of steady load measured per round. */
  readonly seconds: number;
  /** Seconds of the same load offered first in each round, and not measured. */
  readonly warmupSeconds: number;
  readonly rounds: number;
}

interface Queue {
  /** Submits a job whose handler records when it starts. */
  submit(index: number, started: Float64Array): void;
  /** Resolves once every job submitted so far has finished. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const BURST = 20_000;

/** Jobs per second on a burst submitted up front. */
async function capacity(open: () => Promise<Queue>): Promise<number> {
  const queue = await open();
  const started = new Float64Array(BURST);
  const start = performance.now();
  for (let i = 0; i < BURST; i++) queue.submit(i, started);
  await queue.idle();
  const rate = BURST / ((performance.now() - start) / 1000);
  await queue.close();
  return rate;
}

/**
 * Offers `rate` jobs per second for `warmupSeconds + seconds`, catching up on each turn of the
 * event loop; returns the latencies of the jobs offered after the warm-up.
 */
async function steadyLoad(
  open: () => Promise<Queue>,
  rate: number,
  { seconds, warmupSeconds }: LatencyOptions,
): Promise<number[]> {
  const queue = await open();
  const warmup = Math.ceil(rate * warmupSeconds);
  const total = warmup + Math.ceil(rate * seconds);
  const submitted = new Float64Array(total);
  const started = new Float64Array(total);
  const begin = performance.now();
  let next = 0;
  await new Promise<void>((resolve) => {
    const turn = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - begin) / 1000) * rate));
      for (; next < due; next++) {
        submitted[next] = performance.now();
        queue.submit(next, started);
      }
      if (next < total) setImmediate(turn);
      else resolve();
    };
    setImmediate(turn);
  });
  await queue.idle();
  await queue.close();
  const latencies: number[] = [];
  for (let i = warmup; i < total; i++) {
    latencies.push((started[i] as number) - (submitted[i] as number));
  }
  return latencies;
}

function contenders(lib: Library): [string, () => Promise<Queue>][] {
  const { JobScheduler } = lib.scheduler;
  return [
    [
      'JobScheduler',
      async () => {
        // Store, metrics and the default 30 s timeout on, as in the throughput workload.
        const scheduler = new JobScheduler({ maxWorkers: 4, queueSize: 1_000_000 });
        await scheduler.start();
        let finished = 0;
        let submitted = 0;
        let wake: (() => void) | undefined;
        scheduler.events$.subscribe((event) => {
          if (event.final && ++finished === submitted) wake?.();
        });
        const handler = async (index: number, started: Float64Array): Promise<void> => {
          started[index] = performance.now();
        };
        return {
          submit: (index, started) => {
            submitted += 1;
            scheduler.submitJob({
              name: 'latency',
              payload: index,
              handler: (payload: number) => handler(payload, started),
            });
          },
          idle: () =>
            finished === submitted
              ? Promise.resolve()
              : new Promise<void>((resolve) => {
                  wake = resolve;
                }),
          close: async () => {
            await scheduler.stop();
          },
        };
      },
    ],
    [
      'p-queue',
      async () => {
        const queue = new PQueue({ concurrency: 4 });
        return {
          submit: (index, started) => {
            void queue.add(async () => {
              started[index] = performance.now();
            });
          },
          idle: () => queue.onIdle(),
          close: async () => {},
        };
      },
    ],
  ];
}

export async function latency(lib: Library, options: LatencyOptions): Promise<WorkloadResult> {
  const figures: Figure[] = [];
  const p99 = new Map<string, number>();
  for (const [name, open] of contenders(lib)) {
    await capacity(open); // warm-up
    collectGarbage();
    const rate = await capacity(open);
    const p50s: number[] = [];
    const p99s: number[] = [];
    let jobs = 0;
    for (let round = 0; round < options.rounds; round++) {
      collectGarbage();
      await settle();
      const latencies = await steadyLoad(open, rate / 2, options);
      p50s.push(percentile(latencies, 0.5));
      p99s.push(percentile(latencies, 0.99));
      jobs = latencies.length;
    }
    const note = `median of ${options.rounds} rounds of ${jobs} jobs at ${(rate / 2000).toFixed(0)} k/s (half of ${(rate / 1000).toFixed(0)} k/s)`;
    figures.push(
      { name: `${name} p50`, value: median(p50s), unit: 'ms', note },
      { name: `${name} p99`, value: median(p99s), unit: 'ms', note },
    );
    p99.set(name, median(p99s));
  }
  return {
    workload: 'latency',
    title: 'Latency: submit to handler start, at a steady half of each one’s own capacity',
    figures,
    goals: [
      goal(
        'JobScheduler submit-to-start p99',
        { value: p99.get('JobScheduler') ?? Number.NaN, unit: 'ms' },
        { name: 'budget', value: 1 },
        'at most',
        1,
      ),
    ],
  };
}
