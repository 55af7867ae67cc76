import type Database from 'better-sqlite3';
import { StoreOpenError } from './storeOpenError.js';

/**
 * Schema migrations, applied in order inside one transaction; `PRAGMA user_version` records how
 * many have run. A file whose version is newer than this list was written by a newer rxjobs and
 * is refused rather than guessed at.
 */
const MIGRATIONS: readonly string[] = [
  // `seq` is the rowid, in submission order: a new row takes the largest number plus one,
  // which keeps that order even when the newest row was deleted. Rows are read only at open,
  // and written by `seq`, so the table needs no other index, which keeps each flush cheap.
  `CREATE TABLE jobs (
     seq INTEGER PRIMARY KEY,
     id TEXT NOT NULL,
     definition TEXT NOT NULL,
     snapshot TEXT NOT NULL,
     status TEXT NOT NULL,
     run INTEGER NOT NULL DEFAULT 0,
     attempt INTEGER NOT NULL DEFAULT 0,
     retry_at REAL
   );
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  // Accepted jobs wait in `<path>-intake` until a flush moves them in. The file names the
  // database it belongs to (meta `database_id`, which migrate() writes), and meta `intake_seq`
  // is the last of its records the database holds. No table changes, but an rxjobs from before
  // this would not read the file, so the version must make it refuse the database.
  '-- the intake file',
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Refuses a file written by a newer rxjobs; returns the file's schema version. */
export function checkVersion(db: Database.Database, path: string): number {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new StoreOpenError(
      path,
      'newer-schema',
      `its schema version ${version} is newer than this rxjobs knows (${SCHEMA_VERSION}); upgrade rxjobs`,
    );
  }
  return version;
}

/**
 * Applies the migrations after `version`, the one `checkVersion` read, and gives the database
 * `databaseId` unless it has one.
 */
export function migrate(db: Database.Database, version: number, databaseId: string): void {
  db.transaction(() => {
    for (const migration of MIGRATIONS.slice(version)) db.exec(migration);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('database_id', ?)").run(databaseId);
    // A write takes the exclusive lock now, at open, not at the first job.
    db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('opened_by_pid', ?)").run(
      String(process.pid),
    );
  })();
}
