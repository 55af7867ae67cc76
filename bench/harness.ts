/**
 * The measuring loop shared by the workloads: a warm-up pass, then rounds in which every
 * contender runs once, in an order that rotates, so a noisy spell on the machine is spread over
 * all of them instead of landing on one. Figures are medians over rounds.
 */
import type { Figure } from './report.js';

/** One thing measured: `run` does its own setup and returns the ms of the timed part only. */
export interface Contender {
  readonly name: string;
  run(n: number): Promise<number>;
  /** Rounds to take part in, for the slow ones; all of them by default. */
  readonly rounds?: number;
  /** Jobs per run, for the slow ones; the workload's `n` by default. */
  readonly n?: number;
}

/** Each contender's timed ms per round, and the jobs in each of its runs. */
export type Samples = ReadonlyMap<string, { readonly n: number; readonly times: number[] }>;

export interface RoundsOptions {
  readonly n: number;
  readonly rounds: number;
  /** Jobs per warm-up run, which lets the JIT settle before anything is timed. */
  readonly warmupN: number;
}

/** Jobs per second from the median time of each contender's runs. */
export function jobsPerSecond(samples: Samples): {
  figures: Figure[];
  perSecond: Map<string, number>;
} {
  const figures: Figure[] = [];
  const perSecond = new Map<string, number>();
  for (const [name, { n, times }] of samples) {
    const value = n / (median(times) / 1000);
    perSecond.set(name, value);
    figures.push({
      name,
      value,
      unit: 'jobs/s',
      note: `median of ${times.length} runs of ${n} jobs`,
    });
  }
  return { figures, perSecond };
}

export function median(values: readonly number[]): number {
  return percentile(values, 0.5);
}

/** The `q` quantile (0..1) by nearest rank; NaN for no values. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Full collections, so one contender's garbage is not billed to the next. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('Run the bench with `node --expose-gc` (npm run bench).');
  gc();
  gc();
}

/** Live heap bytes after a full collection. */
export function liveHeap(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/** Lets pending timers and I/O callbacks run before the next measurement. */
export function settle(ms = 20): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs every contender `rounds` times after a warm-up; returns each one's timed ms per round. */
export async function runRounds(
  contenders: readonly Contender[],
  { n, rounds, warmupN }: RoundsOptions,
): Promise<Samples> {
  const samples = new Map(
    contenders.map((contender) => [contender.name, { n: contender.n ?? n, times: [] as number[] }]),
  );
  for (const contender of contenders) {
    collectGarbage();
    await contender.run(warmupN);
  }
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < contenders.length; i++) {
      const contender = contenders[(round + i) % contenders.length] as Contender;
      if (round >= (contender.rounds ?? rounds)) continue;
      collectGarbage();
      await settle(5);
      samples.get(contender.name)?.times.push(await contender.run(contender.n ?? n));
    }
  }
  return samples;
}
