/**
 * Workload 5: the throughput of the durable store. No-op jobs defined by name, concurrency 4,
 * all submitted up front to a scheduler on a fresh SQLite file, timed until the last has
 * finished and is written to the database, beside the same scheduler in memory. The `stop()`
 * that follows is not timed: closing the database checkpoints its WAL once, a cost per process
 * and not per job (4 to 8 ms here).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Library } from './build.js';
import { type Contender, jobsPerSecond, runRounds } from './harness.js';
import { goal, type WorkloadResult } from './report.js';

export interface DurableOptions {
  readonly n: number;
  readonly rounds: number;
  /** Rounds for the figures beside the goal's; `'full'` takes seconds per run (a sync per job). */
  readonly slowRounds: number;
  /** Jobs per run for `'full'`, whose rate a sync per job sets, not how many there are. */
  readonly fullN: number;
  readonly warmupN: number;
}

const CONCURRENCY = 4;
const GOAL_JOBS_PER_SECOND = 50_000;

const BATCH = 100;

/**
 * `batches`: submitted as batch jobs of BATCH children, one intake record each, not one per job.
 * `keepAll`: `retention: Infinity`, so every job reaches the database; by default most jobs end
 * and fall out of `retention` before the flush that would move them in.
 */
function contender(
  lib: Library,
  name: string,
  synchronous?: 'normal' | 'full',
  {
    batches = false,
    keepAll = false,
    rounds,
    n: ownN,
  }: { batches?: boolean; keepAll?: boolean; rounds?: number; n?: number } = {},
): Contender {
  const { JobScheduler } = lib.scheduler;
  const { sqliteStore } = lib.sqlite;
  return {
    name,
    ...(rounds === undefined ? {} : { rounds }),
    ...(ownN === undefined ? {} : { n: ownN }),
    run: async (n) => {
      const dir = mkdtempSync(join(tmpdir(), 'rxjobs-bench-'));
      const store =
        synchronous === undefined
          ? undefined
          : sqliteStore({ path: join(dir, 'jobs.db'), synchronous });
      // Room for every job waiting, and for every batch running at once.
      const scheduler = new JobScheduler({
        maxWorkers: CONCURRENCY,
        queueSize: n + BATCH,
        ...(keepAll ? { retention: Number.POSITIVE_INFINITY } : {}),
        ...(store === undefined ? {} : { store }),
      });
      scheduler.define('noop', async () => {});
      await scheduler.start();
      // Every job, and every batch, ends with one final event.
      const ends = batches ? n + Math.ceil(n / BATCH) : n;
      const finished = new Promise<void>((resolve) => {
        let left = ends;
        scheduler.events$.subscribe((event) => {
          if (event.final && --left === 0) resolve();
        });
      });
      const start = performance.now();
      if (batches) {
        for (let i = 0; i < n; i += BATCH) {
          const size = Math.min(BATCH, n - i);
          const jobs = Array.from({ length: size }, (_, k) => ({ name: 'noop', payload: i + k }));
          scheduler.submitJob({ name: 'bulk', jobs, concurrency: CONCURRENCY });
        }
      } else {
        for (let i = 0; i < n; i++) {
          scheduler.submitJob({ name: 'noop', priority: i % 4, payload: i });
        }
      }
      await finished;
      // What the flush of the next turn would write: the last jobs' ends.
      store?.flush();
      const elapsed = performance.now() - start;
      await scheduler.stop({ drain: true });
      rmSync(dir, { recursive: true, force: true });
      return elapsed;
    },
  };
}

export async function durable(lib: Library, options: DurableOptions): Promise<WorkloadResult> {
  const samples = await runRounds(
    [
      contender(lib, 'JobScheduler, memory'),
      contender(lib, "JobScheduler, sqliteStore 'normal'", 'normal'),
      contender(lib, "JobScheduler, sqliteStore 'full'", 'full', {
        rounds: options.slowRounds,
        n: options.fullN,
      }),
      contender(lib, `sqliteStore 'normal', in batches of ${BATCH}`, 'normal', {
        batches: true,
        rounds: options.slowRounds,
      }),
      contender(lib, "sqliteStore 'normal', every job kept", 'normal', {
        keepAll: true,
        rounds: options.slowRounds,
      }),
    ],
    options,
  );
  const { figures, perSecond } = jobsPerSecond(samples);
  const normal = perSecond.get("JobScheduler, sqliteStore 'normal'") ?? Number.NaN;
  return {
    workload: 'durable',
    title: `Durable: ${options.n} no-op jobs by name up front, concurrency 4, on a fresh SQLite file`,
    figures,
    goals: [
      goal(
        "sqliteStore 'normal' throughput",
        { value: normal, unit: 'jobs/s' },
        { name: 'budget', value: GOAL_JOBS_PER_SECOND },
        'at least',
        1,
      ),
    ],
  };
}
