/**
 * Workload 2: heap bytes per waiting job with a large backlog, side by side, and the heap of a
 * scheduler that keeps running jobs to completion, which must stay flat under `retention`.
 */
import pLimit from 'p-limit';
import PQueue from 'p-queue';
import { Subject } from 'rxjs';
import type { Library } from './build.js';
import { liveHeap, settle } from './harness.js';
import { type Figure, goal, type WorkloadResult } from './report.js';

export interface MemoryOptions {
  /** Jobs left waiting, for bytes per waiting job. */
  readonly waiting: number;
  /** Jobs run to completion, for the flat-heap check. */
  readonly completed: number;
  /** Heap readings taken over `completed`, evenly spaced. */
  readonly checkpoints: number;
}

const noop = async (): Promise<void> => {};
const never = (): Promise<never> => new Promise<never>(() => {});

/** Live heap bytes that `fill` adds and keeps, per item; `fill` returns what keeps them alive. */
async function bytesPerItem(n: number, fill: (n: number) => unknown): Promise<number> {
  await settle();
  const before = liveHeap();
  let kept: unknown = fill(n);
  const after = liveHeap();
  // Read after the measurement, so nothing is collected early.
  if (kept === undefined) throw new Error('nothing kept');
  kept = undefined;
  return (after - before) / n;
}

async function waitingBytes(lib: Library, n: number): Promise<Map<string, number>> {
  const { JobScheduler } = lib.scheduler;
  const { priorityMergeMap } = lib.operators;
  const results = new Map<string, number>();
  // Not started: every job waits. No payload, so the figure is the scheduler's own cost.
  results.set(
    'JobScheduler',
    await bytesPerItem(n, (count) => {
      const scheduler = new JobScheduler({ maxWorkers: 4, queueSize: count });
      for (let i = 0; i < count; i++) {
        scheduler.submitJob({ name: 'wait', priority: i % 4, handler: noop });
      }
      return scheduler;
    }),
  );
  results.set(
    'priorityMergeMap',
    await bytesPerItem(n, (count) => {
      const source = new Subject<number>();
      const subscription = source
        .pipe(priorityMergeMap(never, { concurrency: 4, priority: (i: number) => i % 4 }))
        .subscribe();
      for (let i = 0; i < count; i++) source.next(i);
      return { source, subscription };
    }),
  );
  results.set(
    'p-queue',
    await bytesPerItem(n, (count) => {
      const queue = new PQueue({ concurrency: 4, autoStart: false });
      for (let i = 0; i < count; i++) void queue.add(noop);
      return queue;
    }),
  );
  results.set(
    'p-limit',
    await bytesPerItem(n, (count) => {
      const limit = pLimit(1);
      void limit(never);
      for (let i = 0; i < count; i++) void limit(noop);
      return limit;
    }),
  );
  return results;
}

/** Runs `total` jobs through one started scheduler in chunks, reading the heap as it goes. */
async function heapOverCompletedJobs(
  lib: Library,
  { completed: total, checkpoints }: MemoryOptions,
): Promise<{ jobs: number; heap: number }[]> {
  const { JobScheduler } = lib.scheduler;
  const chunk = 10_000;
  // Default retention, timeout and metrics: what a long-running service would use.
  const scheduler = new JobScheduler({ maxWorkers: 4, queueSize: chunk });
  await scheduler.start();
  let finished = 0;
  let target = 0;
  let wake: () => void = () => {};
  scheduler.events$.subscribe((event) => {
    if (event.final && ++finished === target) wake();
  });
  const readings: { jobs: number; heap: number }[] = [];
  const every = Math.max(chunk, Math.floor(total / checkpoints / chunk) * chunk);
  for (let done = 0; done < total; ) {
    const size = Math.min(chunk, total - done);
    target = finished + size;
    const drained = new Promise<void>((resolve) => {
      wake = resolve;
    });
    for (let i = 0; i < size; i++) {
      scheduler.submitJob({ name: 'work', priority: i % 4, handler: noop });
    }
    await drained;
    done += size;
    if (done % every === 0 || done === total) readings.push({ jobs: done, heap: liveHeap() });
  }
  await scheduler.stop();
  return readings;
}

export async function memory(lib: Library, options: MemoryOptions): Promise<WorkloadResult> {
  const perJob = await waitingBytes(lib, options.waiting);
  const figures: Figure[] = [...perJob].map(([name, bytes]) => ({
    name: `${name}, per waiting job`,
    value: bytes,
    unit: 'bytes',
    note: `${options.waiting} waiting`,
  }));
  const readings = await heapOverCompletedJobs(lib, options);
  for (const { jobs, heap } of readings) {
    figures.push({ name: `heap after ${jobs} jobs completed`, value: heap, unit: 'bytes' });
  }
  const first = readings[0] as { jobs: number; heap: number };
  const last = readings.at(-1) as { jobs: number; heap: number };
  const growth = last.heap - first.heap;
  figures.push({
    name: 'heap growth per job completed',
    value: last.jobs === first.jobs ? 0 : growth / (last.jobs - first.jobs),
    unit: 'bytes',
    note: `from ${first.jobs} to ${last.jobs} jobs`,
  });
  const bytes = (name: string) => ({ value: perJob.get(name) ?? Number.NaN, unit: 'bytes' });
  return {
    workload: 'memory',
    title: `Memory: ${options.waiting} jobs waiting; heap over ${options.completed} jobs completed (default retention)`,
    figures,
    goals: [
      goal(
        'JobScheduler bytes per waiting job',
        bytes('JobScheduler'),
        { name: 'budget', value: 200 },
        'at most',
        1,
      ),
      goal(
        `Heap after ${last.jobs} jobs vs after ${first.jobs}`,
        { value: last.heap, unit: 'bytes' },
        { name: `after ${first.jobs}`, value: first.heap },
        'at most',
        1.1,
      ),
    ],
  };
}
