// What the demo prints once the scheduler has stopped: the stop report, then a table per job
// name whose total row is getMetrics(), so it also shows that the two folds agree. Plain text,
// coloured only on a terminal that supports it.
import pc from 'picocolors';
import type { SchedulerMetrics, StopReport } from '../../src/index.js';
import { duration, type LiveStats } from './liveStats.js';

const colors = pc.createColors(pc.isColorSupported && process.stdout.isTTY === true);

export function formatStopReport(report: StopReport): string {
  const groups = new Map<string, number>();
  for (const { name, previous } of report.cancelled) {
    const key = `${name} (was ${previous})`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  const jobs = (n: number) => `${n} job${n === 1 ? '' : 's'}`;
  return [
    colors.bold('Stop report'),
    `  finished during the stop: ${jobs(report.finishedDuringStop)}`,
    `  cancelled: ${jobs(report.cancelled.length)}`,
    ...[...groups].map(([key, count]) => `    ${String(count).padStart(3)} × ${key}`),
    // Only a durable store keeps jobs for the next start.
    ...(report.kept.length > 0 ? [`  kept for the next start: ${jobs(report.kept.length)}`] : []),
  ].join('\n');
}

const COLUMNS = ['completed', 'failed', 'retried', 'timed out', 'cancelled', 'avg exec'] as const;

export function formatSummaryTable(
  stats: LiveStats,
  metrics: SchedulerMetrics,
  elapsedMs: number,
): string {
  const row = (name: string, cells: readonly (string | number)[]) =>
    ` ${name.padEnd(16)}${cells.map((value, index) => String(value).padStart((COLUMNS[index]?.length ?? 8) + 2)).join('')}`;
  const body = [...stats.byName]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, s]) => {
      const average = s.attempts === 0 ? '-' : duration(s.execMs / s.attempts);
      return row(name, [s.completed, s.failed, s.retried, s.timedOut, s.cancelled, average]);
    });
  const rule = ` ${'─'.repeat(row('', COLUMNS).length - 1)}`;
  return [
    colors.bold('Summary'),
    colors.bold(row('job', COLUMNS)),
    rule,
    ...body,
    rule,
    colors.bold(
      row('total', [
        metrics.completedJobs,
        metrics.failedJobs,
        metrics.retriedAttempts,
        metrics.timedOutAttempts,
        metrics.cancelledJobs,
        duration(metrics.averageExecTime),
      ]),
    ),
    ` ${metrics.totalJobs} jobs in ${duration(elapsedMs)} · exec p50 ${duration(metrics.execTime.p50)}, p95 ${duration(metrics.execTime.p95)} · wait p95 ${duration(metrics.waitTime.p95)}`,
  ].join('\n');
}
