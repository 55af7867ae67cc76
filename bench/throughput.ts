/**
 * Workload 1: no-op async jobs, concurrency 4, every job submitted up front with priority
 * `i % 4`, timed from the first submission until the last job has finished.
 */
import pLimit from 'p-limit';
import PQueue from 'p-queue';
import { mergeMap, type Observable, type OperatorFunction, range } from 'rxjs';
import type { Library } from './build.js';
import { type Contender, jobsPerSecond, runRounds } from './harness.js';
import { type Goal, goal, type WorkloadResult } from './report.js';

export interface ThroughputOptions {
  readonly n: number;
  readonly rounds: number;
  /** Rounds for the contenders that take seconds per run (O(n) inserts or shifts). */
  readonly slowRounds: number;
  readonly warmupN: number;
}

const CONCURRENCY = 4;
const noop = async (): Promise<void> => {};

function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  return work().then(() => performance.now() - start);
}

/** Subscribes and resolves on complete, rejects on error. */
function drain<T>(source: Observable<T>): Promise<void> {
  return new Promise((resolve, reject) => {
    source.subscribe({ error: reject, complete: resolve });
  });
}

function rxjsContender(
  name: string,
  operator: OperatorFunction<number, unknown>,
  rounds?: number,
): Contender {
  return {
    name,
    ...(rounds === undefined ? {} : { rounds }),
    run: (n) => timed(() => drain(range(0, n).pipe(operator))),
  };
}

function pQueueContender(
  name: string,
  options: (i: number) => { priority?: number; timeout?: number },
  rounds?: number,
): Contender {
  return {
    name,
    ...(rounds === undefined ? {} : { rounds }),
    run: (n) => {
      const queue = new PQueue({ concurrency: CONCURRENCY });
      return timed(() => {
        for (let i = 0; i < n; i++) void queue.add(noop, options(i));
        return queue.onIdle();
      });
    },
  };
}

export function throughputContenders(lib: Library, slowRounds: number): Contender[] {
  const { JobScheduler } = lib.scheduler;
  const { priorityMergeMap } = lib.operators;
  return [
    {
      name: 'raw loop',
      run: (n) => {
        const jobs: (() => Promise<void>)[] = new Array(n).fill(noop);
        let next = 0;
        const lane = async (): Promise<void> => {
          while (next < jobs.length) await (jobs[next++] as () => Promise<void>)();
        };
        return timed(() => Promise.all(Array.from({ length: CONCURRENCY }, lane)));
      },
    },
    {
      // The store, the metrics (with their interval timer) and the default 30 s timeout are on.
      name: 'JobScheduler',
      run: async (n) => {
        const scheduler = new JobScheduler({ maxWorkers: CONCURRENCY, queueSize: n });
        await scheduler.start();
        return timed(() => {
          for (let i = 0; i < n; i++) {
            scheduler.submitJob({ name: 'noop', priority: i % 4, handler: noop });
          }
          return scheduler.stop({ drain: true });
        });
      },
    },
    rxjsContender(
      'priorityMergeMap',
      priorityMergeMap(noop, { concurrency: CONCURRENCY, priority: (i: number) => i % 4 }),
    ),
    rxjsContender('rxjs mergeMap', mergeMap(noop, CONCURRENCY), slowRounds),
    {
      name: 'p-limit',
      run: (n) => {
        const limit = pLimit(CONCURRENCY);
        return timed(() => {
          const all: Promise<void>[] = new Array(n);
          for (let i = 0; i < n; i++) all[i] = limit(noop);
          return Promise.all(all);
        });
      },
    },
    pQueueContender('p-queue', () => ({})),
    pQueueContender('p-queue priority', (i) => ({ priority: i % 4 }), slowRounds),
    pQueueContender('p-queue timeout', () => ({ timeout: 30_000 }), slowRounds),
  ];
}

export async function throughput(
  lib: Library,
  options: ThroughputOptions,
): Promise<WorkloadResult> {
  const samples = await runRounds(throughputContenders(lib, options.slowRounds), options);
  const { figures, perSecond } = jobsPerSecond(samples);
  const rate = (name: string) => ({ name, value: perSecond.get(name) ?? Number.NaN });
  const measured = (name: string) => ({ value: rate(name).value, unit: 'jobs/s' });
  const goals: Goal[] = [
    goal('JobScheduler vs p-queue', measured('JobScheduler'), rate('p-queue'), 'at least', 3),
    goal(
      'JobScheduler vs p-queue with priority',
      measured('JobScheduler'),
      rate('p-queue priority'),
      'at least',
      30,
    ),
    goal(
      'priorityMergeMap vs raw loop',
      measured('priorityMergeMap'),
      rate('raw loop'),
      'at least',
      0.2,
    ),
    goal(
      'priorityMergeMap vs rxjs mergeMap',
      measured('priorityMergeMap'),
      rate('rxjs mergeMap'),
      'at least',
      10,
    ),
  ];
  return {
    workload: 'throughput',
    title: `Throughput: ${options.n} no-op async jobs up front, concurrency ${CONCURRENCY}, priority i % 4`,
    figures,
    goals,
  };
}
