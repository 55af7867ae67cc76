// Real processes, real SIGKILLs: a durable store must lose no accepted job, whenever it dies.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const KILLS = Number(process.env.RXJOBS_KILLS ?? 20);
const worker = join(import.meta.dirname, 'crashWorker.ts');
const dir = mkdtempSync(join(tmpdir(), 'rxjobs-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function start(db: string, logFile: string, mode: 'workload' | 'drain'): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', worker, db, logFile, mode], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function output(
  child: ChildProcess,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => (stdout += chunk));
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

function waitFor(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout?.on('data', (chunk) => {
      seen += chunk;
      if (seen.includes(text)) resolve();
    });
    child.on('close', (code) => reject(new Error(`worker exited (${code}) before '${text}'`)));
  });
}

/** Resolves once one more `cron` line is logged than when it was called. */
async function cronFired(logFile: string): Promise<void> {
  const count = () => {
    try {
      return readFileSync(logFile, 'utf8').match(/^cron /gm)?.length ?? 0;
    } catch {
      return 0;
    }
  };
  const before = count();
  const deadline = performance.now() + 10_000;
  while (count() === before) {
    if (performance.now() > deadline) {
      const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-12).join('\n');
      throw new Error(`the cron job did not fire within 10 s; the log ends:\n${tail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('crash recovery with sqliteStore', () => {
  it(`loses no accepted job across ${KILLS} SIGKILLs at random points`, async () => {
    const db = join(dir, 'jobs.db');
    const logFile = join(dir, 'jobs.log');
    // A fixed seed of kill times, so a failure can be replayed.
    let seed = Number(process.env.RXJOBS_SEED ?? 7);
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let kill = 0; kill < KILLS; kill++) {
      const child = start(db, logFile, 'workload');
      const closed = output(child);
      await waitFor(child, 'ready');
      // Every fourth life lasts until the cron job has fired in it, so it fires in several
      // lives however slowly a loaded machine starts the worker.
      if (kill % 4 === 0) await cronFired(logFile);
      await new Promise((resolve) => setTimeout(resolve, 100 + random() * 1200));
      child.kill('SIGKILL');
      const { code, stderr } = await closed;
      expect(stderr).toBe('');
      expect(code).toBeNull();
    }
    const drain = start(db, logFile, 'drain');
    const { code, stdout, stderr } = await output(drain);
    expect(stderr).toBe('');
    expect(code).toBe(0);

    const final = new Map(
      (JSON.parse(stdout) as { id: string; status: string }[]).map((job) => [job.id, job.status]),
    );
    const lines = readFileSync(logFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(' '));
    const accepted = lines.filter(([kind]) => kind === 'accepted').map(([, id]) => id as string);
    expect(accepted.length).toBeGreaterThan(KILLS * 5);

    // Every accepted job ended, in exactly one terminal state.
    const notEnded = accepted.filter(
      (id) => !['completed', 'failed', 'cancelled'].includes(final.get(id) ?? 'lost'),
    );
    expect(notEnded).toEqual([]);

    // A run whose completion was written never runs again. One that completed but was killed
    // before the write may (delivery is at least once): its attempt is run again.
    const persisted = new Set<string>();
    const rerunAfterWrite: string[] = [];
    for (const [kind, id, run] of lines) {
      const key = `${id}/${run}`;
      if (kind === 'persisted') persisted.add(key);
      if ((kind === 'exec' || kind === 'cron') && persisted.has(key)) rerunAfterWrite.push(key);
    }
    expect(rerunAfterWrite).toEqual([]);
    const interrupted = new Set(
      lines.filter(([kind]) => kind === 'interrupted').map(([, id, run]) => `${id}/${run}`),
    );
    // The workload finished jobs for real: most completed.
    const completed = accepted.filter((id) => final.get(id) === 'completed').length;
    expect(completed / accepted.length).toBeGreaterThan(0.9);

    // The cron job never fired twice for one second, and its run numbers never went back.
    const cronLines = lines.filter(([kind]) => kind === 'cron');
    const firesBySecond = new Map<string, Set<string>>();
    for (const [, , run, , second] of cronLines) {
      const runs = firesBySecond.get(second as string) ?? new Set();
      runs.add(run as string);
      firesBySecond.set(second as string, runs);
    }
    const doubleFires = [...firesBySecond].filter(([, runs]) => runs.size > 1);
    expect(doubleFires).toEqual([]);
    const cronRuns = cronLines.map(([, , run]) => Number(run));
    expect(
      cronRuns.every((run, index) => index === 0 || run >= (cronRuns[index - 1] as number)),
    ).toBe(true);
    expect(cronLines.length).toBeGreaterThanOrEqual(KILLS / 4);
    // The kills did land mid-attempt, so recovery of running jobs was exercised.
    expect(interrupted.size).toBeGreaterThan(0);
  }, 180_000);
});
