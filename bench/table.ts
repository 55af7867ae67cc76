/** Renders workload results as plain-text tables for the terminal and BENCHMARKS.md. */
import type { Figure, Goal, WorkloadResult } from './report.js';

function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return String(value);
  if (unit === 'jobs/s') {
    return value >= 1e6 ? `${(value / 1e6).toFixed(2)} M/s` : `${(value / 1e3).toFixed(1)} k/s`;
  }
  if (unit === 'bytes' && Math.abs(value) >= 1e6) return `${(value / 1e6).toFixed(1)} MB`;
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${unit}`;
}

function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return String(ratio);
  return ratio >= 10 ? `${ratio.toFixed(1)}x` : `${ratio.toFixed(2)}x`;
}

function columns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

function figureRows(figures: readonly Figure[]): string[] {
  return columns(
    figures.map((figure) => [
      `  ${figure.name}`,
      formatValue(figure.value, figure.unit),
      figure.note ?? '',
    ]),
  );
}

function goalRows(goals: readonly Goal[]): string[] {
  return columns([
    ['  goal', 'measured', 'anchor', 'ratio', 'target', ''],
    ...goals.map((goal) => [
      `  ${goal.name}`,
      formatValue(goal.measured, goal.unit),
      `${goal.anchor} ${formatValue(goal.anchorValue, goal.unit)}`,
      formatRatio(goal.ratio),
      `${goal.comparison === 'at least' ? '>=' : '<='} ${formatRatio(goal.target)}`,
      goal.met ? 'met' : 'NOT MET',
    ]),
  ]);
}

export function renderTable(results: readonly WorkloadResult[]): string {
  const lines: string[] = [];
  for (const result of results) {
    lines.push(`${result.workload}: ${result.title}`, ...figureRows(result.figures));
    if (result.goals.length > 0) lines.push(...goalRows(result.goals));
    lines.push('');
  }
  return lines.join('\n');
}
