// Accepted jobs wait in `<path>-intake` until a flush moves them into the database.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { encode } from '../../src/durableCodec.js';
import { type JobInput, JobScheduler } from '../../src/index.js';
import { StoreOpenError, sqliteStore } from '../../src/sqlite.js';
import { lifetime, tempDbPath } from './durableHarness.js';

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
function storedJob(
  path: string,
  id: string,
): { definition: Record<string, unknown>; snapshot: { createdAt: number } } {
  const db = new Database(path, { readonly: true });
  const row = db.prepare('SELECT definition, snapshot FROM jobs WHERE id = ?').get(id) as {
    definition: string;
    snapshot: string;
  };
  db.close();
  return { definition: JSON.parse(row.definition), snapshot: JSON.parse(row.snapshot) };
}

/** A fresh database that ran one job with `id` to completion, and that job as it stored it. */
async function databaseWithJob(id: string) {
  const path = tempDbPath();
  const first = scheduler(path);
  await first.start();
  first.submitJob({ id, name: 'echo', payload: 1 });
  await first.stop({ drain: true });
  const stored = storedJob(path, id);
  /** The job as an intake record holds it, with `changes` to its definition. */
  const accepted = (changes: Record<string, unknown> = {}) => ({
    definition: { ...stored.definition, ...changes },
    createdAt: stored.snapshot.createdAt,
  });
  return { path, accepted };
}

/** Writes the intake file a crashed process would have left: this database's header, then `text`. */
function writeIntake(path: string, text: string): void {
  const header = JSON.stringify({ rxjobsIntake: 1, database: meta(path, 'database_id') });
  writeFileSync(`${path}-intake`, `${header}\n${text}`);
}

const line = (record: unknown) => `${encode(record)}\n`;

/** Runs the worker; it dies by SIGKILL right after its last submitJob. */
function crashedLife(
  path: string,
  prefix: string,
  mode: 'normal' | 'full' | 'until-full',
  ...options: 'flush-mid-batch'[]
) {
  const command = `${mode === 'until-full' ? 'ulimit -f 64; ' : ''}exec "$0" --import tsx "$@"`;
  const args = [process.execPath, worker, path, prefix, mode, ...options];
  const child = spawnSync('bash', ['-c', command, ...args], { encoding: 'utf8' });
  expect(child.stderr).toBe('');
  expect(child.signal).toBe('SIGKILL');
  return child.stdout;
}

function rowsById(path: string): Map<string, number> {
  const db = new Database(path, { readonly: true });
  const ids = db.prepare('SELECT id FROM jobs').pluck().all() as string[];
  db.close();
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

const lifeIds = (prefix: string) =>
  ['0', '1', '2', '3', '4', 'later', 'batch', 'child-a', 'child-b'].map((id) => `${prefix}-${id}`);

describe('the intake file of sqliteStore', () => {
  it.each(['normal', 'full'] as const)(
    "holds every job submitJob accepted, for a process killed before any flush ('%s')",
    async (mode) => {
      const path = tempDbPath();
      const later = JSON.parse(crashedLife(path, 'a', mode, 'flush-mid-batch'));
      const next = scheduler(path);
      await next.start();
      expect(next.listJobs().map((job) => job.id)).toEqual(lifeIds('a'));
      expect(next.getJobStatus('a-later')).toEqual(later);
      expect(later).toMatchObject({ status: 'pending', createdAt: expect.any(Number) });
      expect(later.nextRunAt).toBeGreaterThan(later.createdAt);
      await next.stop({ drain: true });
      expect(next.getJobStatus('a-3')).toMatchObject({ status: 'completed', result: 3 });
      expect(next.getJobStatus('a-batch')?.status).toBe('completed');
      expect(next.getJobStatus('a-child-b')).toMatchObject({ status: 'completed', result: 11 });
      // One row each: the flush a subscriber made halfway through the batch split nothing.
      expect([...rowsById(path).values()].every((count) => count === 1)).toBe(true);
      expect(rowsById(path).size).toBe(9);
    },
  );

  it('reads back the few jobs alive at a flush out of many, however long their records', () => {
    const path = tempDbPath();
    const long = 'é'.repeat(20_000);
    const later = { type: 'once' as const, startTime: 3_600_000 };
    lifetime(path, { retention: 0 }, 0, 100, ({ scheduler }) => {
      void scheduler.start();
      // They end before the flush, and fall out of `retention`: no row for any of them.
      for (let i = 0; i < 40; i++) scheduler.submitJob({ name: 'sleep', payload: 10 });
      scheduler.submitJob({ id: 'short', name: 'sleep', payload: 5, schedule: later });
      // Its record is longer than the first read of one, and the second.
      scheduler.submitJob({ id: 'long', name: 'sleep', payload: long, schedule: later });
    });
    expect(storedJob(path, 'short').definition).toMatchObject({ payload: 5 });
    expect(storedJob(path, 'long').definition).toMatchObject({ payload: long });
    expect(rowsById(path).size).toBe(2);
  });

  it('goes on counting records across lives that each die before their first flush', async () => {
    const path = tempDbPath();
    crashedLife(path, 'a', 'normal');
    // The second life moves in the first one's records, then accepts its own and dies.
    crashedLife(path, 'b', 'normal');
    const next = scheduler(path);
    await next.start();
    expect(next.listJobs().map((job) => job.id)).toEqual([...lifeIds('a'), ...lifeIds('b')]);
    const report = await next.stop({ drain: true });
    expect(next.listJobs('completed')).toHaveLength(16);
    // Not due yet: the store keeps them for the next start.
    expect(report.kept.map((job) => job.id)).toEqual(['a-later', 'b-later']);
    expect(next.listJobs('pending').map((job) => job.id)).toEqual(['a-later', 'b-later']);
  });

  it('throws from submitJob when the write fails, and keeps the file whole', async () => {
    const path = tempDbPath();
    // 64 KiB of file: the database opens, and the intake file fills up after a hundred jobs.
    const { accepted, error } = JSON.parse(crashedLife(path, 'fill', 'until-full')) as {
      accepted: number;
      error: string;
    };
    expect(error).toMatch(/EFBIG/);
    expect(accepted).toBeGreaterThan(10);
    const next = scheduler(path);
    await next.start();
    const ids = Array.from({ length: accepted }, (_, index) => `fill-${index}`);
    expect(next.listJobs().map((job) => job.id)).toEqual(ids);
    await next.stop({ drain: true });
  });

  it('gives the database the payload as accepted, whatever the caller changes later', async () => {
    const path = tempDbPath();
    const jobs = new JobScheduler({ store: sqliteStore({ path }) });
    jobs.define('send', (message: { to: string }) => message.to);
    // Bytes beyond ASCII, and the intake record's own keys, inside the payload.
    const message = { to: 'ädä@example.com', createdAt: 1, nested: { '"createdAt":': 2 } };
    jobs.submitJob({
      id: 'mail',
      name: 'send',
      payload: message,
      schedule: { type: 'once', startTime: Date.now() + 60_000 },
    });
    message.to = 'mallory@example.com';
    await jobs.stop();
    expect(storedJob(path, 'mail').definition.payload).toEqual({
      to: 'ädä@example.com',
      createdAt: 1,
      nested: { '"createdAt":': 2 },
    });
  });

  it('keeps the last job accepted under an id that was used twice before a crash', async () => {
    const { path, accepted } = await databaseWithJob('twice');
    // As if 'twice' had run again, ended and fallen out of retention, and been accepted once
    // more, before a crash that came before the flush.
    writeIntake(
      path,
      line({ seq: 2, jobs: [accepted({ payload: 2 })] }) +
        line({ seq: 3, jobs: [accepted({ payload: 3 })] }),
    );
    const next = scheduler(path);
    await next.start();
    await next.stop({ drain: true });
    expect(rowsById(path)).toEqual(new Map([['twice', 1]]));
    expect(next.getJobStatus('twice')).toMatchObject({ status: 'completed', result: 3 });
  });

  it('keeps the payload the handler runs with, even one a getter of the input changes', async () => {
    const path = tempDbPath();
    const jobs = new JobScheduler({ store: sqliteStore({ path }) });
    let ran: unknown;
    jobs.define('send', (payload: unknown) => {
      ran = structuredClone(payload);
    });
    await jobs.start();
    const payload = { n: 1 };
    const input = {
      id: 'got',
      name: 'send',
      payload,
      // Read while the input is checked, after its payload was.
      get handler() {
        payload.n = 2;
        return undefined;
      },
    };
    // A getter that returns undefined is what exactOptionalPropertyTypes cannot express.
    await jobs.submitJob(input as unknown as JobInput<{ n: number }>).result;
    await jobs.stop({ drain: true });
    expect(ran).toEqual({ n: 2 });
    expect(storedJob(path, 'got').definition).toMatchObject({ payload: { n: 2 } });
  });

  it('keeps a payload whose keys look like the codec tags as the data it is', async () => {
    const path = tempDbPath();
    const first = scheduler(path);
    const payload = { $error: null, $number: 'Infinity' };
    first.submitJob({
      id: 'tagged',
      name: 'echo',
      payload,
      schedule: { type: 'once', startTime: Date.now() + 60_000 },
    });
    await first.stop();
    expect(storedJob(path, 'tagged').definition.payload).toEqual(payload);
    const next = scheduler(path);
    expect(next.getJobStatus('tagged')?.status).toBe('pending');
    await next.stop();
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
    const { path, accepted } = await databaseWithJob('kept');
    // As if the process had died between the commit of record 1 and the reset of the file,
    // just after accepting record 2.
    writeIntake(
      path,
      line({ seq: 1, jobs: [accepted()] }) +
        line({ seq: 2, jobs: [accepted({ id: 'fresh', payload: 2 })] }),
    );

    const next = scheduler(path);
    await next.start();
    expect(next.listJobs().map((job) => job.id)).toEqual(['kept', 'fresh']);
    await next.stop({ drain: true });
    expect(next.getJobStatus('fresh')).toMatchObject({ status: 'completed', result: 2 });
    expect(meta(path, 'intake_seq')).toBe('2');
    expect(rowsById(path)).toEqual(
      new Map([
        ['kept', 1],
        ['fresh', 1],
      ]),
    );
  });

  it('ignores a record a crash cut short: it was never acknowledged', async () => {
    const { path } = await databaseWithJob('done');
    writeIntake(path, '{"seq":2,"jobs":[{"definition":{"id":"half');
    const next = scheduler(path);
    await next.start();
    expect(next.listJobs().map((job) => job.id)).toEqual(['done']);
    await next.stop();
  });

  it('ignores what a power loss left after the last good record', async () => {
    const { path, accepted } = await databaseWithJob('done');
    writeIntake(
      path,
      `${line({ seq: 2, jobs: [accepted({ id: 'kept', payload: 2 })] })}\0\0\0\n{"seq":3,"jo\n\0`,
    );
    const next = scheduler(path);
    await next.start();
    expect(next.listJobs().map((job) => job.id)).toEqual(['done', 'kept']);
    await next.stop({ drain: true });
    expect(meta(path, 'intake_seq')).toBe('2');
  });

  const badIntake: [string, (database: string) => string, RegExp][] = [
    [
      'records out of order',
      (database) =>
        `${JSON.stringify({ rxjobsIntake: 1, database })}\n{"seq":2,"jobs":[]}\n{"seq":2,"jobs":[]}\n`,
      /record 2 does not follow the one before/,
    ],
    [
      "another database's intake file",
      () => `${JSON.stringify({ rxjobsIntake: 1, database: 'someone-else' })}\n`,
      /belongs to another database \(someone-else\)/,
    ],
    [
      'a file of one line with no newline, that is not the start of its header',
      () => 'not an rxjobs intake file',
      /not an rxjobs intake file/,
    ],
    [
      "another database's header with no newline",
      () => JSON.stringify({ rxjobsIntake: 1, database: 'someone-else' }),
      /not an rxjobs intake file/,
    ],
    [
      'a record that is not a job record, with a good one after it',
      (database) =>
        `${JSON.stringify({ rxjobsIntake: 1, database })}\n{"seq":1,"jobs":[{}]}\n{"seq":2,"jobs":[]}\n`,
      /record 1 is not a job record/,
    ],
  ];
  it.each(badIntake)('refuses %s, and leaves both files as they were', async (_, make, message) => {
    const path = tempDbPath();
    const first = scheduler(path);
    await first.start();
    await first.stop();
    const intake = make(meta(path, 'database_id') as string);
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
    expect((error as Error).message).toMatch(message);
    expect(readFileSync(`${path}-intake`, 'utf8')).toBe(intake);
    expect(readFileSync(path)).toEqual(before);
  });

  it('takes a header a crash cut short for a file with no record yet', async () => {
    const path = tempDbPath();
    const first = scheduler(path);
    await first.start();
    await first.stop();
    const header = JSON.stringify({ rxjobsIntake: 1, database: meta(path, 'database_id') });
    writeFileSync(`${path}-intake`, header.slice(0, 20));
    const next = scheduler(path);
    await next.start();
    expect(next.listJobs()).toEqual([]);
    await next.stop();
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
