// The view without a terminal (a pipe, a CI log): one plain logfmt line per `metrics$` snapshot,
// which the demo asks for every second. No colours and no cursor movement.
import type { JobScheduler } from '../../src/index.js';
import { clockTime, type LiveStats, PRIORITY_LEVELS } from './liveStats.js';

export function plainLine(stats: LiveStats, elapsedMs: number): string {
  const { metrics, batch, cron } = stats;
  const queued = PRIORITY_LEVELS.map(
    ([name, priority]) => `${name}:${stats.queuedByPriority.get(priority) ?? 0}`,
  ).join(',');
  const ms = (value: number) => `${Math.round(value)}ms`;
  return [
    `t=${Math.round(elapsedMs / 1000)}s`,
    `queued=${queued}`,
    `busy=${stats.busyWorkers}/${metrics.maxWorkers}`,
    `throughput=${metrics.throughput.toFixed(1)}/s`,
    `exec_p50=${ms(metrics.execTime.p50)}`,
    `exec_p95=${ms(metrics.execTime.p95)}`,
    `wait_p95=${ms(metrics.waitTime.p95)}`,
    `completed=${stats.completed}`,
    `failed=${stats.failed}`,
    `retried=${stats.retried}`,
    `timed_out=${stats.timedOut}`,
    `batch=${batch.completed + batch.failed}/${batch.total}`,
    `cron_next=${cron.nextRunAt === 0 ? '-' : clockTime(cron.nextRunAt)}`,
  ].join(' ');
}

export interface PlainLines {
  /** Prints no more lines. */
  close(): void;
}

export function startPlainLines(
  scheduler: JobScheduler,
  stats: LiveStats,
  startedAt: number,
): PlainLines {
  const subscription = scheduler.metrics$.subscribe(() => {
    console.log(plainLine(stats, Date.now() - startedAt));
  });
  return { close: () => subscription.unsubscribe() };
}
