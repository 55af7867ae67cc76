import { readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { JobScheduler } from '../../src/index.js';
import { StoreOpenError, sqliteStore } from '../../src/sqlite.js';
import { tempDbPath } from './durableHarness.js';

async function startError(path: string): Promise<StoreOpenError> {
  const scheduler = new JobScheduler({ store: sqliteStore({ path }) });
  return scheduler.start().then(
    () => {
      throw new Error('start() should have failed');
    },
    (error: StoreOpenError) => error,
  );
}

describe('sqliteStore files', () => {
  it('refuses a file that is not a database, and leaves it as it was', async () => {
    const path = tempDbPath();
    const content = 'quarterly report, definitely not SQLite\n'.repeat(50);
    writeFileSync(path, content);
    const error = await startError(path);
    expect(error).toBeInstanceOf(StoreOpenError);
    expect(error).toMatchObject({ reason: 'not-a-database', path });
    expect(error.message).toMatch(/not a SQLite database/);
    expect(readFileSync(path, 'utf8')).toBe(content);
  });

  it('rejects a draining stop() of a scheduler never started, when its store cannot open', async () => {
    const path = tempDbPath();
    writeFileSync(path, 'not SQLite either\n'.repeat(50));
    const scheduler = new JobScheduler({ store: sqliteStore({ path }) });
    await expect(scheduler.stop({ drain: true })).rejects.toMatchObject({
      reason: 'not-a-database',
    });
  });

  it('refuses a database with a row that does not decode, and lets go of it', async () => {
    const path = tempDbPath();
    const first = new JobScheduler({ store: sqliteStore({ path }) });
    first.define('send', (to: string) => to);
    await first.start();
    const later = { type: 'once' as const, startTime: Date.now() + 3_600_000 };
    first.submitJob({ id: 'a', name: 'send', payload: 'x', schedule: later });
    await first.stop();
    const db = new Database(path);
    db.prepare("UPDATE jobs SET snapshot = '{not json' WHERE id = 'a'").run();
    db.close();
    const error = await startError(path);
    expect(error).toMatchObject({ reason: 'unreadable', path });
    // Closed, not held: a second try finds the same bad row, not a lock.
    await expect(startError(path)).resolves.toMatchObject({ reason: 'unreadable' });
  });

  it('refuses a file from a newer schema, and leaves it as it was', async () => {
    const path = tempDbPath();
    const db = new Database(path);
    db.exec('CREATE TABLE future (x)');
    db.pragma('user_version = 99');
    db.close();
    const before = readFileSync(path);
    const error = await startError(path);
    expect(error).toMatchObject({ reason: 'newer-schema' });
    expect(error.message).toMatch(/schema version 99 is newer/);
    expect(readFileSync(path)).toEqual(before);
  });

  it('refuses a file another live scheduler has open', async () => {
    const path = tempDbPath();
    const first = new JobScheduler({ store: sqliteStore({ path }) });
    await first.start();
    const error = await startError(path);
    expect(error).toMatchObject({ reason: 'locked' });
    expect(error.message).toMatch(/another live scheduler/);
    await first.stop();
    // Once the first one stopped, the file is free again.
    const second = new JobScheduler({ store: sqliteStore({ path }) });
    await expect(second.start()).resolves.toBeUndefined();
    await second.stop();
  });

  it('creates the schema in a new file, in WAL mode, and records its version', async () => {
    const path = tempDbPath();
    const scheduler = new JobScheduler({ store: sqliteStore({ path, synchronous: 'full' }) });
    await scheduler.start();
    await scheduler.stop();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('checks its options', () => {
    expect(() => sqliteStore({ path: '' })).toThrow(RangeError);
    expect(() => sqliteStore({ path: 'jobs\0.db' })).toThrow(/`path` to be a file path/);
    expect(() => sqliteStore({ path: 3 as never })).toThrow(/`path`.*\(number\)/);
    expect(() => sqliteStore({ path: 'x.db', synchronous: 'off' as never })).toThrow(
      /`synchronous`.*'off'/,
    );
    expect(() => sqliteStore(null as never)).toThrow(TypeError);
    // A misspelt `synchronous` would leave the store at 'normal' without a word.
    expect(() => sqliteStore({ path: 'x.db', synchronus: 'full' } as never)).toThrow(
      new TypeError(
        "Expected `synchronus` to be left out: the fields are path, synchronous, onWriteError, got `'full'` (string)",
      ),
    );
  });
});

describe('submitting to a durable store', () => {
  const make = () => {
    const scheduler = new JobScheduler({ store: sqliteStore({ path: tempDbPath() }) });
    scheduler.define('send', (to: string) => `sent to ${to}`);
    return scheduler;
  };

  it('takes a job by name alone and resolves its handler', async () => {
    const scheduler = make();
    await scheduler.start();
    const job = scheduler.submitJob({ name: 'send', payload: 'ada@example.com' });
    await expect(job.result).resolves.toBe('sent to ada@example.com');
    await scheduler.stop();
  });

  const refused: [string, Parameters<JobScheduler['submitJob']>[0], RegExp][] = [
    [
      'an inline handler',
      { name: 'send', handler: () => 1 },
      /`handler`.*left out with a durable store/,
    ],
    ['a name with no handler', { name: 'unknown' }, /`handler`.*a function/],
    [
      'a payload with a cycle',
      {
        name: 'send',
        payload: (() => {
          const o: Record<string, unknown> = {};
          o.self = o;
          return o;
        })(),
      },
      /`payload`.*JSON-serialisable/,
    ],
    ['a BigInt payload', { name: 'send', payload: 10n }, /`payload`.*JSON-serialisable/],
    ['a function payload', { name: 'send', payload: () => 1 }, /`payload`.*JSON-serialisable/],
    [
      'an inline retryIf',
      { name: 'send', retryPolicy: { retryIf: () => true } },
      /`retryPolicy.retryIf`/,
    ],
  ];
  it.each(refused)('refuses %s, and writes nothing', async (_label, input, message) => {
    const scheduler = make();
    await scheduler.start();
    expect(() => scheduler.submitJob(input)).toThrow(TypeError);
    expect(() => scheduler.submitJob(input)).toThrow(message);
    expect(scheduler.listJobs()).toEqual([]);
    await scheduler.stop();
  });

  it('refuses to define a name twice', () => {
    const scheduler = make();
    expect(() => scheduler.define('send', () => 2)).toThrow(/`name`.*not defined yet.*'send'/);
  });
});
