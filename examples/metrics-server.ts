// Prometheus metrics over HTTP: `collectMetrics` keeps a prom-client Registry current from the
// scheduler's `events$` and `metrics$`, and a node:http server on loopback serves it at /metrics.
// Run it with `npx tsx examples/metrics-server.ts` (RXJOBS_METRICS_PORT picks the port; 0, the
// default, takes any free one), then `curl http://127.0.0.1:<port>/metrics`. Ctrl-C stops it.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { type JobHandler, type JobInput, JobScheduler, Priority } from '../src/index.js';
import { collectMetrics } from '../src/prometheus.js';

const scheduler = new JobScheduler({ maxWorkers: 3, retryDelay: 50 });
// A registry of its own; leave `registry` out to use prom-client's global one.
const registry = new Registry();
const unregister = collectMetrics(scheduler, { registry });
await scheduler.start();

const server = createServer((request, response) => {
  if (request.method !== 'GET' || request.url !== '/metrics') {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: try GET /metrics\n');
    return;
  }
  registry.metrics().then(
    (body) => response.writeHead(200, { 'content-type': registry.contentType }).end(body),
    (error: unknown) => response.writeHead(500).end(`${String(error)}\n`),
  );
});
// Loopback only: metrics say a lot about a system, so expose them further on purpose, not by default.
server.listen(Number(process.env.RXJOBS_METRICS_PORT ?? 0), '127.0.0.1');
await once(server, 'listening');
const { port } = server.address() as AddressInfo;
console.log(`Serving Prometheus metrics at http://127.0.0.1:${port}/metrics`);

const work: JobHandler<number, string> = async (ms, { signal }) => {
  await sleep(ms, undefined, { signal });
  return `done in ${ms} ms`;
};
const flaky: JobHandler<unknown, string> = (_payload, { attempt }) => {
  if (attempt < 3) throw new Error(`upstream returned 503 (attempt ${attempt})`);
  return 'synced';
};
const names = ['send_email', 'resize_image', 'rebuild_index'] as const;
const inputs: JobInput[] = [
  ...Array.from({ length: 12 }, (_, index) => ({
    name: names[index % names.length] ?? 'send_email',
    priority: index % 4,
    payload: 20 + (index % 5) * 15,
    handler: work,
  })),
  {
    name: 'sync_inventory',
    priority: Priority.High,
    handler: flaky,
  },
  {
    name: 'export_report',
    payload: 5_000,
    handler: work,
    timeout: 100,
    retryPolicy: { maxAttempts: 1 },
  },
  // Fires every 40 ms but takes 70: with the default overlap 'skip', some fires are skipped.
  {
    name: 'poll_feed',
    payload: 70,
    handler: work,
    schedule: { type: 'interval', every: 40, maxRuns: 6 },
  },
];
const jobs = inputs.map((input) => scheduler.submitJob(input));
// Failures are part of the workload; allSettled also keeps them from being unhandled.
await Promise.allSettled(jobs.map((job) => job.result));

const m = scheduler.getMetrics();
console.log(
  `Workload settled: submitted=${m.totalJobs} completed=${m.completedJobs} failed=${m.failedJobs} ` +
    `retried=${m.retriedAttempts} timed_out=${m.timedOutAttempts} skipped=${m.skippedRuns} ` +
    `cancelled=${m.cancelledJobs} queued=${m.queuedJobs} running=${m.runningJobs} ` +
    `busy=${m.busyWorkers} max_workers=${m.maxWorkers} avg_exec_ms=${m.averageExecTime}`,
);
console.log('Still serving; Ctrl-C stops.');

const shutdown = async (): Promise<void> => {
  server.close();
  server.closeAllConnections();
  await scheduler.stop();
  unregister();
  console.log('Stopped.');
};
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());
