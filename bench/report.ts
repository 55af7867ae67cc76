/** What a workload hands back: its measured figures and the goals judged from them. */

/** One measured median. */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** How many runs or samples the median is over, or what else qualifies it. */
  readonly note?: string;
}

/**
 * A goal of the issue, as a ratio against its anchor: another contender measured in the same
 * run, or a fixed budget. `met` is `ratio >= target` for 'at least' and `ratio <= target` for
 * 'at most'.
 */
export interface Goal {
  readonly name: string;
  readonly measured: number;
  readonly unit: string;
  readonly anchor: string;
  readonly anchorValue: number;
  readonly ratio: number;
  readonly comparison: 'at least' | 'at most';
  readonly target: number;
  readonly met: boolean;
}

export interface WorkloadResult {
  readonly workload: 'throughput' | 'memory' | 'latency' | 'timers' | 'durable';
  readonly title: string;
  readonly figures: readonly Figure[];
  readonly goals: readonly Goal[];
}

export function goal(
  name: string,
  measured: { readonly value: number; readonly unit: string },
  anchor: { readonly name: string; readonly value: number },
  comparison: Goal['comparison'],
  target: number,
): Goal {
  const ratio = measured.value / anchor.value;
  const met = comparison === 'at least' ? ratio >= target : ratio <= target;
  return {
    name,
    measured: measured.value,
    unit: measured.unit,
    anchor: anchor.name,
    anchorValue: anchor.value,
    ratio,
    comparison,
    target,
    met,
  };
}
