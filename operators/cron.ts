/**
 * `cron`: a source of ticks at the fire times of a cron expression, read in an explicit time zone
 * and timed only by an RxJS scheduler, plus the pure query behind it.
 */
import { type CronExpression, CronExpressionParser } from 'cron-parser';
import { asyncScheduler, type Observable, type SchedulerLike } from 'rxjs';
import { type Tick, timerGuard } from './timerGuard.js';
import {
  assertInteger,
  assertOptions,
  assertScheduler,
  expectedMessage,
  toEpochMs,
} from './validate.js';
import { nextOf, ZonedCron } from './zonedCron.js';
import { zoneOffsetReader } from './zoneOffset.js';

export type { Tick } from './timerGuard.js';

/**
 * Options for {@link cron}.
 *
 * @example
 * ```ts
 * const options: CronOptions = { timezone: 'Europe/London', endAt: Date.UTC(2027, 0, 1), maxRuns: 10 };
 * ```
 */
export interface CronOptions {
  /** IANA time zone the expression is read in. Defaults to `'UTC'`, never the host's zone. */
  readonly timezone?: string | undefined;
  /** Date or epoch milliseconds; no tick fires before it. */
  readonly startAt?: Date | number | undefined;
  /** Date or epoch milliseconds; completes when the next fire time would be later. Inclusive. */
  readonly endAt?: Date | number | undefined;
  /** Completes after this many ticks: a whole number from 1 and up. Defaults to `Infinity`. */
  readonly maxRuns?: number | undefined;
  /** The only clock and timer used. Defaults to `asyncScheduler`. */
  readonly scheduler?: SchedulerLike | undefined;
}

const CRON_OPTIONS: ReadonlySet<string> = new Set<keyof CronOptions>([
  'timezone',
  'startAt',
  'endAt',
  'maxRuns',
  'scheduler',
]);

/**
 * Thrown synchronously by {@link cron} and {@link nextCronFire} when the expression does not parse.
 *
 * @example
 * ```ts
 * try {
 *   cron('61 * * * *');
 * } catch (error) {
 *   if (isInvalidCronExpressionError(error)) console.error(error.expression, error.reason);
 * }
 * ```
 */
export class InvalidCronExpressionError extends Error {
  override name = 'InvalidCronExpressionError' as const;
  readonly expression: string;
  /** The parser's own explanation. */
  readonly reason: string;

  /** `field` names where the expression was given: `expression` unless told (`schedule.cronExpr`). */
  constructor(expression: string, reason: string, options?: ErrorOptions & { field?: string }) {
    super(
      `Invalid cron expression in \`${options?.field ?? 'expression'}\`, got '${expression}' (string): ${reason}`,
      options,
    );
    this.expression = expression;
    this.reason = reason;
  }
}

/**
 * Whether a value is an {@link InvalidCronExpressionError}, by name, so it also holds for errors
 * from another realm or another copy of this package.
 *
 * @example
 * ```ts
 * isInvalidCronExpressionError(new InvalidCronExpressionError('x', 'bad')); // true
 * ```
 */
export function isInvalidCronExpressionError(error: unknown): error is InvalidCronExpressionError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { name?: unknown }).name === 'InvalidCronExpressionError'
  );
}

const TIMEZONE_EXPECTATION = "an IANA time zone such as 'America/New_York'";

/** Zones already checked: the check builds an Intl formatter and parses an expression. */
const validZones = new Set<string>();

/** `name` is the field a message names: `timezone`, or `schedule.timezone` for a job. */
export function assertTimezone(value: unknown, name = 'timezone'): asserts value is string {
  if (typeof value !== 'string') {
    throw new TypeError(expectedMessage(name, TIMEZONE_EXPECTATION, value));
  }
  if (validZones.has(value)) return;
  try {
    // Intl rejects luxon's extras ('system' is the host's zone); the parse rejects what luxon cannot read.
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    CronExpressionParser.parse('* * * * *', { currentDate: 0, tz: value });
  } catch {
    throw new RangeError(expectedMessage(name, TIMEZONE_EXPECTATION, value));
  }
  validZones.add(value);
}

/**
 * A parsed expression and the last query asked of it. Every job on one expression asks for the
 * same fire time when they fire together, and cron-parser takes tens of microseconds to answer.
 */
class ParsedCron {
  /** The expression read in UTC, for UTC; for another zone, its wall-clock times mapped. */
  readonly #times: CronExpression | ZonedCron;
  #lastTime = Number.NaN;
  #lastFire: number | undefined;

  constructor(times: CronExpression | ZonedCron) {
    this.#times = times;
  }

  /** The first fire time strictly after `time`, or undefined when there is none. */
  after(time: number): number | undefined {
    if (time !== this.#lastTime) {
      const times = this.#times;
      this.#lastFire = times instanceof ZonedCron ? times.after(time) : nextOf(times, time);
      this.#lastTime = time;
    }
    return this.#lastFire;
  }
}

/** Parsed expressions by zone and expression, shared: a query leaves no state behind. */
const parsedCache = new Map<string, ParsedCron>();
const PARSED_CACHE_SIZE = 1000;

function parseCron(expression: unknown, timezone: string): ParsedCron {
  const key = `${timezone} ${String(expression)}`;
  const cached = parsedCache.get(key);
  if (cached !== undefined && typeof expression === 'string') return cached;
  // Read in UTC, where no local time is skipped or repeated; the zone's offsets do the rest.
  const wallClock = parseExpression(expression);
  const offsetAt = zoneOffsetReader(timezone);
  const parsed = new ParsedCron(
    offsetAt === undefined
      ? wallClock
      : new ZonedCron(wallClock, offsetAt, hourIsWildcard(wallClock, expression as string)),
  );
  // Bounded for programs that make expressions on the fly; the oldest is dropped first.
  if (parsedCache.size >= PARSED_CACHE_SIZE) {
    parsedCache.delete(parsedCache.keys().next().value as string);
  }
  parsedCache.set(key, parsed);
  return parsed;
}

/**
 * Whether the hour field is a wildcard (`*`, `?`, or an alias such as `@hourly` that fires every
 * hour) or a step over one (`*\/2`): such an expression fires in both of a repeated hour.
 */
function hourIsWildcard(parsed: CronExpression, expression: string): boolean {
  if (parsed.fields.hour.isWildcard) return true;
  const fields = expression.trim().split(/\s+/);
  return fields.length > 1 && /^[*?]\//.test(fields[fields.length === 6 ? 2 : 1] ?? '');
}

/** The expression read in UTC: its local times as wall-clock readings. */
function parseExpression(expression: unknown): CronExpression {
  if (typeof expression !== 'string') {
    throw new TypeError(expectedMessage('expression', 'a cron expression string', expression));
  }
  // cron-parser reads an empty string as '* * * * *'.
  if (expression.trim() === '') {
    throw new InvalidCronExpressionError(expression, 'The expression is empty');
  }
  assertFieldCount(expression);
  try {
    // A fixed currentDate keeps the parser off the host clock; `H` fields hash from the expression
    // so every parse of it agrees on the same minutes.
    // Trimmed: cron-parser reads ' @daily' as an unknown alias.
    return CronExpressionParser.parse(expression.trim(), {
      currentDate: 0,
      tz: 'UTC',
      hashSeed: expression,
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidCronExpressionError(expression, reason, { cause: error });
  }
}

/**
 * cron-parser fills missing leading fields with `*` (and `0` seconds), so a 4-field `'0 9 * *'`
 * would read as every minute on the 9th of the month instead of being rejected.
 */
function assertFieldCount(expression: string): void {
  const fields = expression.trim().split(/\s+/);
  const count = fields.length;
  if (count === 5 || count === 6) return;
  // A lone '@name' is one of cron-parser's predefined schedules ('@daily'); it judges the name.
  if (count === 1 && fields[0]?.startsWith('@')) return;
  throw new InvalidCronExpressionError(
    expression,
    `The expression has ${count} field${count === 1 ? '' : 's'}, expected 5, or 6 with seconds first`,
  );
}

/**
 * The first fire time of `expression` strictly after `after`, in epoch milliseconds, or `undefined`
 * when the parser finds none. Pure: no clock is read.
 *
 * @throws {InvalidCronExpressionError} when the expression does not parse.
 * @throws {TypeError | RangeError} when `after` or `timezone` is invalid.
 * @example
 * ```ts
 * // Friday 2 January 2026, 10:00 in New York: the next weekday 09:00 is Monday's.
 * nextCronFire('0 9 * * 1-5', Date.UTC(2026, 0, 2, 15), 'America/New_York');
 * // Date.UTC(2026, 0, 5, 14): Monday 09:00 in New York
 * ```
 */
export function nextCronFire(
  expression: string,
  after: Date | number,
  timezone = 'UTC',
): number | undefined {
  const afterMs = toEpochMs('after', after);
  assertTimezone(timezone);
  return parseCron(expression, timezone).after(afterMs);
}

/**
 * {@link nextCronFire} for one expression and zone, checked and parsed once: for a caller that
 * asks at every fire, where building the cache key and checking again cost more than the answer.
 *
 * @throws {InvalidCronExpressionError} when the expression does not parse.
 * @throws {TypeError | RangeError} when `timezone` is invalid.
 */
export function cronFireTimes(
  expression: string,
  timezone = 'UTC',
): (after: number) => number | undefined {
  assertTimezone(timezone);
  const parsed = parseCron(expression, timezone);
  return (after) => parsed.after(after);
}

/**
 * Emits a {@link Tick} at each fire time of a cron expression (5 fields, or 6 with seconds first),
 * computed from `scheduler.now()` in `timezone`. Arguments are checked when `cron` is called.
 *
 * The first tick is the first fire time strictly after subscription and at or after `startAt`.
 * A wake after a missed fire time (a blocked event loop, a suspended machine) emits one tick for
 * the first missed time, with `firedAt` telling how late it is, then resumes at the first fire time
 * after now. Across changes of the zone's offset it follows ISC cron, however long the jump
 * and whenever it falls: each local time the clocks skip fires one gap later (02:15 and 02:45,
 * skipped by a jump from 02:00 to 03:00, at 03:15 and 03:45), and a local time they repeat
 * fires once, at its first occurrence, unless the hour field is a wildcard (`*`, `?`, `*\/n`,
 * or an alias such as `@hourly`), which fires at both.
 *
 * @throws {InvalidCronExpressionError} when the expression does not parse.
 * @throws {TypeError | RangeError} when an option is invalid.
 * @example
 * ```ts
 * // Weekdays at 09:00 in New York, ten times.
 * cron('0 9 * * 1-5', { timezone: 'America/New_York', maxRuns: 10 }).subscribe((tick) => {
 *   console.log(new Date(tick.scheduledAt).toISOString());
 * });
 * ```
 */
export function cron(expression: string, options: CronOptions = {}): Observable<Tick> {
  assertOptions(options, CRON_OPTIONS);
  // Defaults in the pattern, not spread under the options: an option set to undefined is absent.
  const {
    timezone = 'UTC',
    startAt,
    endAt,
    maxRuns = Number.POSITIVE_INFINITY,
    scheduler = asyncScheduler,
  } = options;
  assertTimezone(timezone);
  assertInteger('maxRuns', maxRuns, 1, true);
  assertScheduler('scheduler', scheduler);
  const startMs = startAt === undefined ? Number.NEGATIVE_INFINITY : toEpochMs('startAt', startAt);
  const endMs = endAt === undefined ? Number.POSITIVE_INFINITY : toEpochMs('endAt', endAt);
  if (endMs < startMs) {
    throw new RangeError(
      expectedMessage('endAt', `no earlier than \`startAt\` (${startMs})`, endAt),
    );
  }
  const parsed = parseCron(expression, timezone);
  const after = (time: number): number | undefined => parsed.after(time);

  return timerGuard(
    // Fire times are whole seconds, so strictly after ceil(startAt) - 1 means at or after startAt.
    (now) => ({ first: after(Math.max(now, Math.ceil(startMs) - 1)), after }),
    { scheduler, maxRuns, endAt: endMs },
  );
}
