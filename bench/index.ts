/**
 * `npm run bench`: rxjobs side by side with p-queue, p-limit, rxjs and a raw loop, in one process
 * and one run, printed as a table of medians and goal ratios and written as JSON.
 *
 *   --quick         tiny sizes, same code paths: checks that the bench runs, not how fast
 *   --only=a,b      only these workloads (throughput, memory, latency, timers, durable)
 *   --out=path      where the JSON goes (default bench/results/latest.json; with --quick, a
 *                   file in the OS temp directory, so a smoke run never overwrites a real one)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLibrary } from './build.js';
import { durable } from './durable.js';
import { collectGarbage } from './harness.js';
import { latency } from './latency.js';
import { memory } from './memory.js';
import type { WorkloadResult } from './report.js';
import { renderTable } from './table.js';
import { throughput } from './throughput.js';
import { timers } from './timers.js';

/** In the order, which is the order of the table. */
const WORKLOADS = ['throughput', 'memory', 'latency', 'timers', 'durable'] as const;
type Workload = (typeof WORKLOADS)[number];
/** The order they run in: memory last, as its million-job heaps would leave the collector busy. */
const RUN_ORDER: readonly Workload[] = ['throughput', 'durable', 'latency', 'timers', 'memory'];

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv: readonly string[]) {
  let quick = false;
  let only: readonly Workload[] = WORKLOADS;
  let out: string | undefined;
  for (const arg of argv) {
    if (arg === '--quick') quick = true;
    else if (arg.startsWith('--only=')) {
      const names = arg.slice('--only='.length).split(',');
      for (const name of names) {
        if (!(WORKLOADS as readonly string[]).includes(name)) {
          throw new TypeError(
            `Unknown workload '${name}': expected one of ${WORKLOADS.join(', ')}`,
          );
        }
      }
      only = names as Workload[];
    } else if (arg.startsWith('--out=')) out = resolve(arg.slice('--out='.length));
    else throw new TypeError(`Unknown argument '${arg}': expected --quick, --only= or --out=`);
  }
  out ??= quick
    ? join(tmpdir(), 'rxjobs-bench-quick.json')
    : join(root, 'bench/results/latest.json');
  return { quick, only, out };
}

function versionOf(name: string): string {
  const manifest = readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8');
  return (JSON.parse(manifest) as { version: string }).version;
}

const { quick, only, out } = parseArgs(process.argv.slice(2));
collectGarbage(); // fails fast without --expose-gc
const started = performance.now();
const lib = await buildLibrary();

const sizes = quick
  ? {
      throughput: { n: 2_000, rounds: 2, slowRounds: 1, warmupN: 200 },
      memory: { waiting: 10_000, completed: 20_000, checkpoints: 2 },
      latency: { seconds: 0.3, warmupSeconds: 0.1, rounds: 1 },
      timers: { cronJobs: 100, expression: '* * * * * *', marks: 1 },
      durable: { n: 1_000, rounds: 1, slowRounds: 1, fullN: 500, warmupN: 100 },
    }
  : {
      throughput: { n: 200_000, rounds: 5, slowRounds: 3, warmupN: 20_000 },
      memory: { waiting: 1_000_000, completed: 5_000_000, checkpoints: 5 },
      latency: { seconds: 2, warmupSeconds: 0.5, rounds: 3 },
      timers: { cronJobs: 10_000, expression: '*/5 * * * * *', marks: 2 },
      durable: { n: 20_000, rounds: 5, slowRounds: 3, fullN: 5_000, warmupN: 2_000 },
    };

const runners: Record<Workload, () => Promise<WorkloadResult>> = {
  throughput: () => throughput(lib, sizes.throughput),
  memory: () => memory(lib, sizes.memory),
  latency: () => latency(lib, sizes.latency),
  timers: () => timers(lib, sizes.timers),
  durable: () => durable(lib, sizes.durable),
};

const byWorkload = new Map<Workload, WorkloadResult>();
for (const workload of RUN_ORDER) {
  if (!only.includes(workload)) continue;
  process.stderr.write(`running ${workload}…`);
  const begun = performance.now();
  byWorkload.set(workload, await runners[workload]());
  // The whole run must stay within 3 minutes; this says where the time goes.
  process.stderr.write(` ${((performance.now() - begun) / 1000).toFixed(0)} s\n`);
}
const results = WORKLOADS.flatMap((workload) => byWorkload.get(workload) ?? []);

const goals = results.flatMap((result) => result.goals);
const report = {
  date: new Date().toISOString(),
  quick,
  seconds: (performance.now() - started) / 1000,
  machine: {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGB: Math.round(totalmem() / 2 ** 30),
    platform: `${process.platform} ${process.arch}`,
  },
  versions: {
    node: process.version,
    v8: process.versions.v8,
    rxjs: versionOf('rxjs'),
    'p-queue': versionOf('p-queue'),
    'p-limit': versionOf('p-limit'),
    'better-sqlite3': versionOf('better-sqlite3'),
    typescript: versionOf('typescript'),
  },
  sizes,
  goalsMet: `${goals.filter((g) => g.met).length}/${goals.length}`,
  results,
};
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
process.stdout.write(renderTable(results));
process.stdout.write(
  `goals met: ${report.goalsMet}; ${report.seconds.toFixed(0)} s on ${report.machine.cores} cores, Node ${process.version}\nJSON: ${out}\n`,
);
