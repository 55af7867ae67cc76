/**
 * Why a durable store could not be opened: the file is not a database, comes from a newer
 * version of rxjobs, or is in use by another live scheduler. The file is left as it was.
 *
 * @example
 * ```ts
 * try { await scheduler.start(); } catch (error) { if (error instanceof StoreOpenError) console.error(error.path, error.reason); }
 * ```
 */
export class StoreOpenError extends Error {
  override name = 'StoreOpenError' as const;
  readonly path: string;
  readonly reason: 'not-a-database' | 'newer-schema' | 'locked' | 'unreadable';

  constructor(
    path: string,
    reason: StoreOpenError['reason'],
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`Cannot open the job store at '${path}': ${detail}`, options);
    this.path = path;
    this.reason = reason;
  }
}
