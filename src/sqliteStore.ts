import type Database from 'better-sqlite3';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { assertOptions, expectedMessage } from '../operators/validate.js';
import { decode, encode, encodeDefinition } from './durableCodec.js';
import { type IntakeLog, type IntakeReadBack, readIntake } from './intakeLog.js';
import type { AcceptedJob, DurableJobStore, RecoveredJob } from './jobStore.js';
import { MemoryStore } from './memoryStore.js';
import { RunProgress } from './runProgress.js';
import { intakePath, openDatabase, readMeta } from './sqliteOpen.js';
import { StoreOpenError } from './storeOpenError.js';
import { StoreWriteError } from './storeWriteError.js';
import type { JobDefinition, JobEvent, JobSnapshot, JobStatus } from './types.js';
import { WriteOutage } from './writeOutage.js';

export interface SqliteStoreOptions {
  /** The database file; made if missing, never overwritten if it is something else. */
  readonly path: string;
  /**
   * `'normal'` (default) survives a crash of the process; `'full'` also survives a power loss,
   * at the cost of a sync of the intake file per `submitJob` and of the database per flush.
   */
  readonly synchronous?: 'normal' | 'full';
  /**
   * Hears of a write to the database that failed in the background (a full disk): the store
   * keeps what it could not write and tries again after 1 s, then 2, 4… up to a minute, until a
   * write succeeds. Once per outage: the failures that follow are not reported. By default a
   * process warning (`process.emitWarning`). A failure at `stop()` rejects `stop()` instead.
   */
  readonly onWriteError?: (error: StoreWriteError) => void;
}

interface JobRow {
  readonly seq: number;
  readonly id: string;
  readonly definition: string;
  readonly snapshot: string;
  readonly run: number;
  readonly attempt: number;
  readonly retry_at: number | null;
}

interface Statements {
  readonly insert: Database.Statement;
  readonly update: Database.Statement;
  readonly remove: Database.Statement;
  readonly intakeSeq: Database.Statement;
}

const TERMINAL: ReadonlySet<JobStatus> = new Set(['completed', 'failed', 'cancelled']);

const STORE_OPTIONS: ReadonlySet<string> = new Set<keyof SqliteStoreOptions>([
  'path',
  'synchronous',
  'onWriteError',
]);

/**
 * A job store in an embedded SQLite file (WAL mode), for jobs that must survive a crash or a
 * deploy. Snapshots are served from memory. Each accepted job is on disk before `submitJob`
 * returns, in an intake file beside the database (`<path>-intake`); the next flush, one
 * transaction per event-loop turn, moves it into the database with every later transition.
 *
 * @example
 * ```ts
 * import { JobScheduler } from 'rxjobs';
 * import { sqliteStore } from 'rxjobs/sqlite';
 *
 * const scheduler = new JobScheduler({ store: sqliteStore({ path: 'jobs.db' }) });
 * scheduler.define('send_email', async (to: string) => mailer.send(to));
 * await scheduler.start(); // recovers what the last process left unfinished
 * scheduler.submitJob({ name: 'send_email', payload: 'ada@example.com' });
 * ```
 */
export function sqliteStore(options: SqliteStoreOptions): DurableJobStore {
  assertOptions(options, STORE_OPTIONS);
  const { path, synchronous = 'normal', onWriteError = warn } = options;
  // A NUL byte ends the path for the C library, which would open a file other than the one named.
  if (typeof path !== 'string' || path.trim() === '' || path.includes('\0')) {
    const ErrorClass = typeof path === 'string' ? RangeError : TypeError;
    throw new ErrorClass(expectedMessage('path', 'a file path', path));
  }
  if (synchronous !== 'normal' && synchronous !== 'full') {
    const ErrorClass = typeof synchronous === 'string' ? RangeError : TypeError;
    throw new ErrorClass(expectedMessage('synchronous', "'normal' or 'full'", synchronous));
  }
  if (typeof onWriteError !== 'function') {
    throw new TypeError(expectedMessage('onWriteError', 'a function', onWriteError));
  }
  return new SqliteStore(path, synchronous, onWriteError);
}

function warn(error: StoreWriteError): void {
  process.emitWarning(error);
}

class SqliteStore implements DurableJobStore {
  readonly durable = true as const;
  readonly #path: string;
  readonly #synchronous: 'normal' | 'full';
  readonly #onWriteError: (error: StoreWriteError) => void;
  #db: Database.Database | undefined;
  #mirror = new MemoryStore(Number.POSITIVE_INFINITY);
  /** What each row holds besides its snapshot: the run to resume after a crash. */
  readonly #progress = new RunProgress();
  /** Each stored job's row: updates and deletes go by rowid, with no index on the id. */
  readonly #rows = new Map<string, number>();
  readonly #dirty = new Set<string>();
  readonly #evicted = new Set<string>();
  /**
   * Accepted jobs in the intake file and not yet in the database, in order, with where they
   * are in it. The flush reads them back from there: a copy of each, kept in memory until then,
   * cost a backlog of new jobs more in garbage collection than the write itself, and the file
   * holds each as accepted, whatever the caller does with its payload later.
   */
  readonly #accepted = new Map<string, number>();
  #intake: IntakeLog | undefined;
  /** The last intake record written. */
  #intakeSeq = 0;
  #flushQueued = false;
  /** Made at `open()`, on the scheduler's clock. */
  #outage: WriteOutage | undefined;
  #statements: Statements | undefined;

  constructor(
    path: string,
    synchronous: 'normal' | 'full',
    onWriteError: (error: StoreWriteError) => void,
  ) {
    this.#path = path;
    this.#synchronous = synchronous;
    this.#onWriteError = onWriteError;
  }

  open(retention: number, scheduler: SchedulerLike = asyncScheduler): RecoveredJob[] {
    if (this.#db !== undefined)
      throw new Error('This store is already open; give each scheduler its own');
    const { db, intake, database } = openDatabase(this.#path, this.#synchronous);
    this.#outage = new WriteOutage(scheduler, this.#onWriteError, () => this.#flushInBackground());
    this.#db = db;
    this.#intake = intake;
    const statements = {
      insert: db.prepare(
        'INSERT INTO jobs (id, definition, snapshot, status, run, attempt, retry_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      update: db.prepare(
        'UPDATE jobs SET snapshot = ?, status = ?, run = ?, attempt = ?, retry_at = ? WHERE seq = ?',
      ),
      remove: db.prepare('DELETE FROM jobs WHERE seq = ?'),
      intakeSeq: db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('intake_seq', ?)"),
    };
    this.#statements = statements;
    this.#mirror = new MemoryStore(retention, (id) => this.#evict(id));
    this.#recoverIntake(db, database, intake);
    let recovered: RecoveredJob[];
    try {
      recovered = this.#readRows(db);
    } catch (error) {
      // A row that does not decode: the store is refused, and closed, not left open and locked.
      intake.close(false);
      db.close();
      this.#forget();
      throw new StoreOpenError(this.#path, 'unreadable', (error as Error).message, {
        cause: error,
      });
    }
    // What retention lets go of at open. Everything else is in the database already, so a
    // failure here is an outage like any other, not a reason to refuse the store.
    this.#flushInBackground();
    return recovered;
  }

  /** Every row into the mirror; the unfinished jobs, to resume. */
  #readRows(db: Database.Database): RecoveredJob[] {
    const recovered: RecoveredJob[] = [];
    const rows = db
      .prepare(
        'SELECT seq, id, definition, snapshot, run, attempt, retry_at FROM jobs ORDER BY seq',
      )
      .all() as JobRow[];
    for (const row of rows) {
      const snapshot = decode(row.snapshot) as JobSnapshot;
      this.#rows.set(row.id, row.seq);
      this.#mirror.restore(snapshot);
      if (TERMINAL.has(snapshot.status)) continue;
      const progress = { run: row.run, attempt: row.attempt, retryAt: row.retry_at ?? undefined };
      this.#progress.restore(row.id, progress, snapshot.status);
      recovered.push({
        definition: decode(row.definition) as JobDefinition,
        snapshot,
        ...progress,
      });
    }
    return recovered;
  }

  accept(jobs: readonly AcceptedJob[]): void {
    const intake = this.#intake;
    if (intake === undefined) throw new Error('This store is not open');
    // On disk before submitJob returns: what was accepted survives a crash right after. If the
    // write fails, submitJob throws and nothing of it was accepted.
    const at = intake.append(this.#intakeSeq + 1, jobs);
    this.#intakeSeq += 1;
    for (const { snapshot } of jobs) this.#accepted.set(snapshot.id, at);
  }

  apply(event: JobEvent): void {
    this.#mirror.apply(event);
    this.#progress.track(event);
    // A job accepted since the last flush is inserted by it as it is then: nothing to update.
    if (!this.#accepted.has(event.jobId)) this.#dirty.add(event.jobId);
    // During an outage the retry timer writes: not every turn.
    if (!this.#flushQueued && this.#outage?.ongoing !== true) {
      this.#flushQueued = true;
      // One transaction per event-loop turn, after its promise callbacks have all run: the
      // synchronous driver does not block the loop per job.
      setImmediate(() => {
        this.#flushQueued = false;
        this.#flushInBackground();
      });
    }
  }

  get(id: string): JobSnapshot | undefined {
    return this.#mirror.get(id);
  }

  list(status?: JobStatus): JobSnapshot[] {
    return this.#mirror.list(status);
  }

  /** Writes what is pending now, in one transaction. */
  flush(): void {
    this.#flush();
  }

  /**
   * Writes what is pending and closes the files. If the write fails, they are closed all the
   * same and this throws: the intake file stays, and the next `open()` recovers from it.
   */
  close(): void {
    const failures: unknown[] = [];
    const attempt = (step: () => void) => {
      try {
        step();
      } catch (error) {
        failures.push(error);
      }
    };
    attempt(() => this.#flush());
    this.#outage?.dispose();
    // Once written, everything the intake file held is in the database.
    const written = failures.length === 0;
    attempt(() => this.#intake?.close(written));
    attempt(() => this.#db?.close());
    this.#forget();
    // The first failure is the one that says what was not written.
    if (failures.length > 0) throw failures[0];
  }

  /**
   * Lets go of everything about the open database. After a failed last write some of it was
   * never written; the next `open()` recovers that from the files, not from here.
   */
  #forget(): void {
    this.#db = undefined;
    this.#intake = undefined;
    this.#statements = undefined;
    this.#outage = undefined;
    this.#flushQueued = false;
    this.#intakeSeq = 0;
    this.#rows.clear();
    this.#progress.clear();
    this.#accepted.clear();
    this.#dirty.clear();
    this.#evicted.clear();
  }

  /**
   * A flush the store makes on its own: each event-loop turn's, and an outage's retries. One
   * that fails leaves everything pending as it was (the transaction rolled back, the intake file
   * kept), and starts or prolongs the outage, whose timer tries again.
   */
  #flushInBackground(): void {
    try {
      this.#flush();
    } catch (error) {
      this.#outage?.failed(error as StoreWriteError);
    }
  }

  /**
   * Moves into the database what a crashed process accepted and had not flushed yet, then starts
   * the intake file afresh. Records the database holds already (the crash came between its
   * commit and the reset of the file) are known by their sequence number and skipped. Read
   * again now that the lock is held: until then another process could still have written it.
   */
  #recoverIntake(db: Database.Database, database: string, intake: IntakeLog): void {
    const path = intakePath(this.#path);
    let seq = Number(readMeta(db, 'intake_seq') ?? 0);
    try {
      const records = readIntake(path, database).filter((record) => record.seq > seq);
      const statements = this.#statements;
      if (records.length > 0 && statements !== undefined) {
        db.transaction(() => {
          // An id in a record was free when it was accepted: a row or an earlier record with it
          // belongs to a job that had ended and fallen out of `retention`, and goes.
          const rows = new Map(
            db.prepare('SELECT id, seq FROM jobs').raw().all() as [string, number][],
          );
          for (const { jobs } of records) {
            for (const { definition, snapshot } of jobs) {
              const { id, status } = snapshot;
              const stale = rows.get(id);
              if (stale !== undefined) statements.remove.run(stale);
              const inserted = statements.insert.run(
                id,
                encodeDefinition(definition),
                encode(snapshot),
                status,
                0,
                0,
                null,
              );
              rows.set(id, Number(inserted.lastInsertRowid));
            }
          }
          seq = (records.at(-1) as { seq: number }).seq;
          statements.intakeSeq.run(String(seq));
        })();
      }
      this.#intakeSeq = seq;
      intake.reset();
    } catch (error) {
      intake.close(false);
      db.close();
      this.#forget();
      if (error instanceof StoreOpenError) throw error;
      throw new StoreOpenError(path, 'unreadable', (error as Error).message, { cause: error });
    }
  }

  #evict(id: string): void {
    // Ended and out of `retention` before it reached the database: there is no row to delete.
    if (this.#accepted.delete(id)) return;
    this.#dirty.delete(id);
    this.#evicted.add(id);
  }

  #flush(): void {
    const db = this.#db;
    const statements = this.#statements;
    if (db === undefined || statements === undefined) return;
    const intake = this.#intake;
    const consumed = intake !== undefined && !intake.empty;
    if (this.#dirty.size === 0 && this.#evicted.size === 0 && !consumed) {
      // Nothing left to write: a write that failed after its commit (resetting the intake file)
      // left nothing pending, and its outage ends here.
      this.#outage?.ended();
      return;
    }
    // Rows change in memory only once the commit holds: a rolled-back flush leaves them be.
    const inserted: [string, number][] = [];
    try {
      this.#write(db, statements, inserted, consumed);
      for (const id of this.#evicted) this.#rows.delete(id);
      for (const [id, seq] of inserted) this.#rows.set(id, seq);
      this.#accepted.clear();
      this.#dirty.clear();
      this.#evicted.clear();
      // Only once the commit holds them may the file let go of them.
      if (consumed) intake.reset();
    } catch (error) {
      throw new StoreWriteError(this.#path, intakePath(this.#path), { cause: error });
    }
    this.#outage?.ended();
  }

  /** The flush's transaction: every pending delete, insert and update, and the intake seq. */
  #write(
    db: Database.Database,
    statements: Statements,
    inserted: [string, number][],
    consumed: boolean,
  ): void {
    const intake = this.#intake;
    db.transaction(() => {
      // Deletes first: a job evicted in this turn may share its id with one accepted in it.
      for (const id of this.#evicted) {
        const seq = this.#rows.get(id);
        if (seq !== undefined) statements.remove.run(seq);
      }
      const readBack = this.#accepted.size > 0 ? intake?.readBack(this.#accepted.size) : undefined;
      for (const [id, at] of this.#accepted) {
        const file = readBack as IntakeReadBack;
        // Not in the mirror yet: a subscriber flushed while the batch it belongs to was being
        // announced, and its row is as it was accepted. (An evicted job is not in #accepted.)
        const snapshot = this.#mirror.get(id) ?? file.accepted(id, at).snapshot;
        const progress = this.#progress.slot(id, snapshot.status);
        const row = statements.insert.run(
          id,
          file.definition(id, at),
          encode(snapshot),
          snapshot.status,
          progress?.run ?? snapshot.runs,
          progress?.attempt ?? 0,
          progress?.retryAt ?? null,
        );
        inserted.push([id, Number(row.lastInsertRowid)]);
      }
      for (const id of this.#dirty) {
        const snapshot = this.#mirror.get(id);
        const seq = this.#rows.get(id);
        if (snapshot === undefined || seq === undefined) continue;
        const progress = this.#progress.slot(id, snapshot.status);
        statements.update.run(
          encode(snapshot),
          snapshot.status,
          progress?.run ?? snapshot.runs,
          progress?.attempt ?? 0,
          progress?.retryAt ?? null,
          seq,
        );
      }
      if (consumed) statements.intakeSeq.run(String(this.#intakeSeq));
    })();
  }
}
