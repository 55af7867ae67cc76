/**
 * Argument checks shared by the operators and the scheduler. Every message follows one formula,
 * naming the option, the value and its type, so a user can tell at a glance what was wrong:
 * ``Expected `concurrency` to be a whole number from 1 and up, got `0` (number)``.
 */

/**
 * Renders a value for an error message. Never throws, whatever the value: a message about a bad
 * argument must not turn into another error (a revoked Proxy, a throwing getter).
 */
export function describeValue(value: unknown): string {
  try {
    return render(value);
  } catch {
    return `[${typeof value}]`;
  }
}

function render(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  }
  if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`;
  if (typeof value !== 'object' || value === null) return String(value);
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    // A cycle, a BigInt, a throwing toJSON: the outline below still says what it is.
  }
  if (json === undefined) return outline(value);
  // A payload of megabytes would otherwise be copied into the message whole.
  return json.length > MAX_DESCRIPTION ? `${json.slice(0, MAX_DESCRIPTION)}…` : json;
}

const MAX_DESCRIPTION = 200;

/** An object's first keys, for one JSON cannot render: `{ self: …, n: … }`. */
function outline(value: object): string {
  if (Array.isArray(value)) return `[array of ${value.length}]`;
  const keys = Object.keys(value);
  const shown = keys.slice(0, 5).map((key) => `${key}: …`);
  if (keys.length > 5) shown.push('…');
  return `{ ${shown.join(', ')} }`;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  try {
    if (Array.isArray(value)) return 'array';
    if (value instanceof Date) return 'Date';
  } catch {
    // A revoked Proxy: `typeof` still answers.
  }
  return typeof value;
}

/** The one message formula: the option, what it must be, the value and its type. */
export function expectedMessage(name: string, expectation: string, value: unknown): string {
  return `Expected \`${name}\` to be ${expectation}, got \`${describeValue(value)}\` (${typeOf(value)})`;
}

/** Throws a TypeError when the value is not a number, a RangeError when it is out of range. */
function checkNumber(
  name: string,
  value: unknown,
  expectation: string,
  inRange: (n: number) => boolean,
): asserts value is number {
  if (typeof value !== 'number') throw new TypeError(expectedMessage(name, expectation, value));
  if (!inRange(value)) throw new RangeError(expectedMessage(name, expectation, value));
}

/** A whole number from `min` up; `Infinity` is accepted only where `allowInfinity` says so. */
export function assertInteger(
  name: string,
  value: unknown,
  min: number,
  allowInfinity = false,
): asserts value is number {
  const expectation = `a whole number from ${min} and up${allowInfinity ? ' (or Infinity)' : ''}`;
  checkNumber(
    name,
    value,
    expectation,
    (n) => (Number.isInteger(n) && n >= min) || (allowInfinity && n === Number.POSITIVE_INFINITY),
  );
}

/** A finite number from `min` up: delays, timeouts, factors. */
export function assertFiniteAtLeast(
  name: string,
  value: unknown,
  min: number,
): asserts value is number {
  checkNumber(
    name,
    value,
    `a finite number from ${min} and up`,
    (n) => Number.isFinite(n) && n >= min,
  );
}

/** Any finite number: priorities, epoch times. */
export function assertFinite(name: string, value: unknown): asserts value is number {
  checkNumber(name, value, 'a finite number', Number.isFinite);
}

export function assertFunction(
  name: string,
  value: unknown,
): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') throw new TypeError(expectedMessage(name, 'a function', value));
}

export function assertOneOf<T extends string>(
  name: string,
  value: unknown,
  allowed: readonly T[],
): asserts value is T {
  if (!allowed.includes(value as T)) {
    const expectation = `one of ${allowed.map((a) => `'${a}'`).join(', ')}`;
    const ErrorClass = typeof value === 'string' ? RangeError : TypeError;
    throw new ErrorClass(expectedMessage(name, expectation, value));
  }
}

export function assertNonEmptyString(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string')
    throw new TypeError(expectedMessage(name, 'a non-empty string', value));
  if (value.trim() === '') throw new RangeError(expectedMessage(name, 'a non-empty string', value));
}

/** A SchedulerLike is anything with `now()` and `schedule()`: RxJS's own, a TestScheduler, or a wrapper. */
export function assertScheduler(name: string, value: unknown): void {
  const candidate = value as { now?: unknown; schedule?: unknown } | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.now !== 'function' ||
    typeof candidate.schedule !== 'function'
  ) {
    throw new TypeError(expectedMessage(name, 'an RxJS SchedulerLike', value));
  }
}

/** Epoch milliseconds from a Date or a number; rejects invalid dates. */
export function toEpochMs(name: string, value: unknown): number {
  const expectation = 'a Date or epoch milliseconds';
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new RangeError(expectedMessage(name, expectation, value));
    return ms;
  }
  // A number a Date cannot hold is no point in time.
  checkNumber(name, value, expectation, (n) => Number.isFinite(n) && Math.abs(n) <= LATEST_DATE_MS);
  return value;
}

/** The largest epoch ms a Date can represent, either side of 1970. */
export const LATEST_DATE_MS = 8.64e15;

/**
 * Throws a TypeError naming the first own field of `input` that is not in `known`: a misspelt
 * option (`timout`, `timeZone`) would otherwise pass for a field left out, and its default apply.
 * `field` turns a key into the name a message gives it (`jobs[2].timout`).
 */
export function assertKnownFields(
  input: object,
  known: ReadonlySet<string>,
  field: (name: string) => string,
): void {
  // for-in over a literal reads V8's cached keys; Object.keys would allocate an array per job.
  for (const key in input) {
    if (known.has(key) || !Object.hasOwn(input, key)) continue;
    throw new TypeError(
      expectedMessage(
        field(key),
        `left out: the fields are ${[...known].join(', ')}`,
        (input as Record<string, unknown>)[key],
      ),
    );
  }
}

/** An object to read fields from: not null, and not an array, whose indices are no fields. */
export function assertObject(name: string, value: unknown): asserts value is object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(expectedMessage(name, 'an object', value));
  }
}

/** An options object whose own fields are all in `known`; each field is named on its own. */
export function assertOptions(value: unknown, known: ReadonlySet<string>): asserts value is object {
  assertObject('options', value);
  assertKnownFields(value, known, (key) => key);
}
