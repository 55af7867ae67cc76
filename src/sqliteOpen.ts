import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { IntakeLog, readIntake } from './intakeLog.js';
import { checkVersion, migrate } from './sqliteSchema.js';
import { StoreOpenError } from './storeOpenError.js';

export interface OpenedDatabase {
  readonly db: Database.Database;
  readonly intake: IntakeLog;
  /** The database's `database_id`, which its intake file names. */
  readonly database: string;
}

/**
 * Opens the database at `path` and its intake file, or refuses them with a `StoreOpenError`.
 * Everything that could refuse them is read before rxjobs writes anything: a database that is
 * refused keeps its contents. (Closing it may still fold a crashed process's `-wal` file into
 * it, as any SQLite connection's close does.)
 */
export function openDatabase(path: string, synchronous: 'normal' | 'full'): OpenedDatabase {
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: 0 });
  } catch (error) {
    throw new StoreOpenError(path, 'unreadable', (error as Error).message, { cause: error });
  }
  let intake: IntakeLog | undefined;
  try {
    const version = checkVersion(db, path);
    // A database from before schema 2 has no id yet; migrate() gives it this one.
    const database = (version >= 2 ? readMeta(db, 'database_id') : undefined) ?? newDatabaseId();
    readIntake(intakePath(path), version >= 2 ? database : undefined);
    // Opened now, so a directory that refuses the file refuses the database unchanged.
    intake = new IntakeLog(intakePath(path), database, synchronous === 'full');
    db.pragma('journal_mode = WAL');
    // Held for the life of the connection, and released by the OS if the process dies: a
    // second live scheduler on the same file is refused, a crashed one is not in the way.
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    migrate(db, version, database);
    return { db, intake, database };
  } catch (error) {
    intake?.close(false);
    db.close();
    throw openError(path, error);
  }
}

function openError(path: string, error: unknown): StoreOpenError {
  if (error instanceof StoreOpenError) return error;
  const code = (error as { code?: string }).code;
  if (code === 'SQLITE_NOTADB') {
    return new StoreOpenError(path, 'not-a-database', 'the file is not a SQLite database', {
      cause: error,
    });
  }
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new StoreOpenError(path, 'locked', 'another live scheduler has it open', {
      cause: error,
    });
  }
  return new StoreOpenError(path, 'unreadable', (error as Error).message, { cause: error });
}

/** Where accepted jobs wait for the next flush: beside the database, as SQLite's `-wal` is. */
export function intakePath(path: string): string {
  return `${path}-intake`;
}

export function readMeta(db: Database.Database, key: string): string | undefined {
  return db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined;
}

function newDatabaseId(): string {
  return randomBytes(16).toString('hex');
}
