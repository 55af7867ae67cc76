// Accepted jobs wait in `<path>-intake` until a flush moves them into the database.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { encode } from '../../src/durableCodec.js';
import { JobScheduler } from '../../src/index.js';
import { StoreOpenError, sqliteStore } from '../../src/sqlite.js';
import { tempDbPath } from './durableHarness.js';

const worker = join(import.meta.dirname, 'intakeWorker.ts');

function scheduler(path: string): JobScheduler {
  const jobs = new JobScheduler({ store: sqliteStore({ path }) });
  jobs.define('echo', (value: number) => value);
  return jobs;
}

function meta(path: string, key: string): string | undefined {
  const db = new Database(path, { readonly: true });
  const value = db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key);
  db.close();
  return value as string | undefined;
}

/** A job as a clean run left it in the database: its definition and snapshot, decoded. */
function storedJob(path: string, id: string): { definition: unknown; snapshot: unknown } {
  const db = new Database(path, { readonly: true });
  const row = db.prepare('SELECT definition, snapshot FROM jobs WHERE id = ?').get(id) as {
    definition: string;
    snapshot: string;
  };
  db.close();
  return { definition: JSON.parse(row.definition), snapshot: JSON.parse(row.snapshot) };
}

describe('the intake file of sqliteStore', () => {
  it('holds every job submitJob accepted, for a process killed before any flush', async () => {
    const path = tempDbPath();
    const child = spawnSync(process.execPath, ['--import', 'tsx', worker, path], {
      encoding: 'utf8',
    });
    expect(child.signal).toBe('SIGKILL');
    expect(child.stderr).toBe('');
    // Nothing reached the database itself: the jobs are in the intake file alone.
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT count(*) FROM jobs').pluck().get()).toBe(0);
    db.close();

    const next = scheduler(path);
    await next.start();
    const ids = ['job-0', 'job-1', 'job-2', 'job-3', 'job-4', 'batch', 'child-a', 'child-b'];
    expect(next.listJobs().map((job) => job.id)).toEqual(ids);
    await next.stop({ drain: true });
    expect(next.getJobStatus('job-3')).toMatchObject({ status: 'completed', result: 3 });
    expect(next.getJobStatus('batch')?.status).toBe('completed');
    expect(next.getJobStatus('child-b')).toMatchObject({ status: 'completed', result: 11 });
  });

  it('is removed by a clean stop, once the database holds everything', async () => {
    const path = tempDbPath();
    const jobs = scheduler(path);
    await jobs.start();
    jobs.submitJob({ name: 'echo', payload: 1 });
    expect(existsSync(`${path}-intake`)).toBe(true);
    await jobs.stop({ drain: true });
    expect(existsSync(`${path}-intake`)).toBe(false);
    expect(meta(path, 'database_id')).toMatch(/^[0-9a-f]{32}$/);
    expect(meta(path, 'intake_seq')).toBe('1');
  });

  it('skips records the database holds already, and moves in those it does not', async () => {
    const path = tempDbPath();
    const first = scheduler(path);
    await first.start();
    first.submitJob({ id: 'kept', name: 'echo', payload: 1 });
    await first.stop({ drain: true });
    // As if the process had died between the commit of record 1 and the reset of the file,
    // just after accepting record 2.
    const kept = storedJob(path, 'kept');
    const fresh = {
      definition: { ...(kept.definition as object), id: 'fresh', payload: 2 },
      snapshot: { ...(kept.snapshot as object), id: 'fresh', status: 'pending' },
    };
    const header = JSON.stringify({ rxjobsIntake: 1, database: meta(path, 'database_id') });
    writeFileSync(
      `${path}-intake`,
      `${header}\n${encode({ seq: 1, jobs: [kept] })}\n${encode({ seq: 2, jobs: [fresh] })}\n`,
    );

    const next = scheduler(path);
    await next.start();
    expect(next.listJobs().map((job) => job.id)).toEqual(['kept', 'fresh']);
    await next.stop({ drain: true });
    expect(next.getJobStatus('fresh')).toMatchObject({ status: 'completed', result: 2 });
    expect(meta(path, 'intake_seq')).toBe('2');
  });

  it('ignores a record a crash cut short: it was never acknowledged', async () => {
    const path = tempDbPath();
    const first = scheduler(path);
    await first.start();
    await first.stop();
    const header = JSON.stringify({ rxjobsIntake: 1, database: meta(path, 'database_id') });
    writeFileSync(`${path}-intake`, `${header}\n`);
    appendFileSync(`${path}-intake`, '{"seq":1,"jobs":[{"definition":{"id":"half');
    const next = scheduler(path);
    await next.start();
    expect(next.listJobs()).toEqual([]);
    await next.stop();
  });

  it("refuses another database's intake file, and leaves both files as they were", async () => {
    const path = tempDbPath();
    const first = scheduler(path);
    await first.start();
    await first.stop();
    const intake = `${JSON.stringify({ rxjobsIntake: 1, database: 'someone-else' })}\n`;
    writeFileSync(`${path}-intake`, intake);
    const before = readFileSync(path);
    const error = await scheduler(path)
      .start()
      .then(
        () => undefined,
        (reason: unknown) => reason,
      );
    expect(error).toBeInstanceOf(StoreOpenError);
    expect(error).toMatchObject({ reason: 'unreadable', path: `${path}-intake` });
    expect((error as Error).message).toMatch(/belongs to another database \(someone-else\)/);
    expect(readFileSync(`${path}-intake`, 'utf8')).toBe(intake);
    expect(readFileSync(path)).toEqual(before);
  });

  it('takes a file of schema version 1 as it is, and moves it to version 2', async () => {
    const path = tempDbPath();
    const db = new Database(path);
    db.exec(`CREATE TABLE jobs (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, definition TEXT NOT NULL,
      snapshot TEXT NOT NULL, status TEXT NOT NULL, run INTEGER NOT NULL DEFAULT 0,
      attempt INTEGER NOT NULL DEFAULT 0, retry_at REAL);
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`);
    db.pragma('user_version = 1');
    db.close();
    const jobs = scheduler(path);
    await jobs.start();
    await jobs.stop();
    const upgraded = new Database(path, { readonly: true });
    expect(upgraded.pragma('user_version', { simple: true })).toBe(2);
    upgraded.close();
    expect(meta(path, 'database_id')).toMatch(/^[0-9a-f]{32}$/);
  });
});
