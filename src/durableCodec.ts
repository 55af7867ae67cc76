import type { JobDefinition } from './types.js';

/**
 * JSON for what a durable store keeps: `Infinity` (a timeout or `maxAttempts` may be infinite)
 * and errors survive the round trip; a value JSON cannot hold is kept as its description.
 */

interface EncodedError {
  readonly $error: {
    readonly name: string;
    readonly message: string;
    readonly [key: string]: unknown;
  };
}

function replacer(this: unknown, _key: string, value: unknown): unknown {
  if (value === Number.POSITIVE_INFINITY) return { $number: 'Infinity' };
  if (value === Number.NEGATIVE_INFINITY) return { $number: '-Infinity' };
  if (value instanceof Error) {
    return {
      $error: { ...value, name: value.name, message: value.message },
    } satisfies EncodedError;
  }
  return value;
}

/**
 * Reads back what the replacer wrote, and nothing else: a tag is an object with that one key, as
 * the replacer makes it, so a payload that merely has a `$error` key among others stays as it
 * is. It never throws, whatever the text holds: a record that does not decode is not a reason to
 * stop a flush or refuse a database. (A one-key object shaped like a tag does come back as what
 * the tag stands for.)
 */
function reviver(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  if (keys.length !== 1) return value;
  const record = value as { $number?: unknown; $error?: unknown };
  if (record.$number === 'Infinity') return Number.POSITIVE_INFINITY;
  if (record.$number === '-Infinity') return Number.NEGATIVE_INFINITY;
  const stored = record.$error as { name?: unknown; message?: unknown } | null | undefined;
  if (
    typeof stored === 'object' &&
    stored !== null &&
    typeof stored.name === 'string' &&
    typeof stored.message === 'string'
  ) {
    const { name, message, ...fields } = stored;
    // The class is gone after a restart; the name, message and fields (jobId, ms) are not.
    return Object.assign(new Error(message), fields, { name });
  }
  return value;
}

/**
 * True when plain `JSON.stringify` writes what the replacer would: no infinite number and no
 * error inside. The replacer is a call per key, about half the cost of encoding a job, and most
 * values need none; past a small depth the replacer is used rather than walking further.
 */
function plainJson(value: unknown, depth: number): boolean {
  if (typeof value === 'number') return Number.isFinite(value) || Number.isNaN(value);
  if (typeof value !== 'object' || value === null) return true;
  if (depth === 0 || value instanceof Error) return false;
  // What a toJSON returns is only seen by the replacer; a Date's is a string.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value instanceof Date;
  if (Array.isArray(value)) {
    for (const item of value) if (!plainJson(item, depth - 1)) return false;
    return true;
  }
  for (const key in value) {
    if (!plainJson((value as Record<string, unknown>)[key], depth - 1)) return false;
  }
  return true;
}

/** The JSON the replacer gives, without calling it where it would change nothing; may throw. */
function stringify(value: unknown): string | undefined {
  return plainJson(value, 4) ? JSON.stringify(value) : JSON.stringify(value, replacer);
}

/**
 * Encodes for storage; `undefined` stays SQL NULL. A part JSON cannot hold (a cycle, a BigInt)
 * is kept as its description, and only that part: a snapshot whose result has a BigInt keeps
 * its id and status, and an error with a cyclic field keeps its name and message.
 */
export function encode(value: unknown): string | null {
  if (value === undefined) return null;
  try {
    return stringify(value) ?? null;
  } catch {
    return JSON.stringify(salvage(value, SALVAGE_DEPTH), replacer) ?? null;
  }
}

/** What a value that throws when read (a revoked Proxy, a throwing getter) is kept as. */
const UNREADABLE = { $unserializable: 'a value that throws when read' };

/** How deep `salvage` looks for the parts that can be kept: a snapshot, its error, its fields. */
const SALVAGE_DEPTH = 4;

/**
 * `value` with each part JSON cannot hold replaced by an `$unserializable` description; a
 * reference back to an object it is inside is one such part.
 */
function salvage(value: unknown, depth: number, inside: readonly object[] = []): unknown {
  if (typeof value === 'object' && value !== null && inside.includes(value)) {
    return { $unserializable: 'a reference to an object it is inside' };
  }
  try {
    stringify(value);
    return value;
  } catch {
    // Below: only the parts of it.
  }
  if (depth === 0 || typeof value !== 'object' || value === null) {
    return { $unserializable: describe(value) };
  }
  // Encoding must not throw: a record that cannot be written would hold back every other.
  try {
    const path = [...inside, value];
    // JSON writes what toJSON gives, not the fields: those copied, it would be called again.
    const { toJSON } = value as { toJSON?: unknown };
    if (typeof toJSON === 'function') {
      return salvageJson(value, toJSON as (key: string) => unknown, depth, path);
    }
    if (Array.isArray(value)) return value.map((item) => salvage(item, depth - 1, path));
    const fields: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) {
      fields[key] = salvage(field, depth - 1, path);
    }
    if (!(value instanceof Error)) return fields;
    return { $error: { ...fields, name: String(value.name), message: String(value.message) } };
  } catch {
    return UNREADABLE;
  }
}

/** What `toJSON` gives for `value`, salvaged, or a description when it throws. */
function salvageJson(
  value: object,
  toJSON: (key: string) => unknown,
  depth: number,
  path: readonly object[],
): unknown {
  let json: unknown;
  try {
    json = toJSON.call(value, '');
  } catch {
    return { $unserializable: 'a value whose toJSON throws' };
  }
  return salvage(json, depth - 1, path);
}

function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value !== 'object' || value === null) return String(value);
  try {
    const name = value.constructor?.name;
    return `${typeof name === 'string' && name !== '' ? name : 'an object'} JSON cannot hold`;
  } catch {
    return UNREADABLE.$unserializable;
  }
}

/** A number as `encode` writes it: as JavaScript prints it when finite, else as the replacer does. */
function encodeNumber(value: number): string {
  return Number.isFinite(value) ? `${value}` : (encode(value) as string);
}

const quote = JSON.stringify;

/**
 * `encode(definition)`, written field by field: a template is about three times faster than
 * `JSON.stringify` on this shape, and a durable `submitJob` encodes one. Nested values that may
 * be anything (the payload, the timing) go through `encode`; a payload just checked by
 * `unserializableReason` is not encoded twice.
 */
export function encodeDefinition(definition: JobDefinition): string {
  const { payload, parentId, childIds } = definition;
  let text =
    `{"id":${quote(definition.id)},"name":${quote(definition.name)}` +
    `,"type":${quote(definition.type)},"priority":${encodeNumber(definition.priority)}`;
  // Left out when undefined, as JSON.stringify leaves out an undefined property.
  if (payload !== undefined) text += `,"payload":${encodePayload(payload)}`;
  text += settingsText(definition);
  if (parentId !== undefined) text += `,"parentId":${quote(parentId)}`;
  if (childIds !== undefined) text += `,"childIds":${quote(childIds)}`;
  return `${text}}`;
}

/** What `settingsText` compares of the settings it encoded last. */
interface Settings {
  readonly timing: { readonly kind: string };
  readonly retryPolicy: StoredPolicy;
  readonly timeout: number;
  readonly overlap: string;
  readonly missedRuns: string;
  readonly concurrency: number;
}

/** The settings `settingsText` encoded last, and its text: jobs of one kind mostly share them. */
let lastSettings: Settings | undefined;
let lastSettingsText = '';

/** The fields from `timing` to `concurrency`, each preceded by a comma. */
function settingsText(definition: JobDefinition): string {
  const last = lastSettings;
  // Compared by value: a definition is plain data, built afresh for each job. Only the timing
  // `now` is matched: any other holds a time or an expression of its own job.
  if (
    last !== undefined &&
    definition.timing.kind === 'now' &&
    last.timing.kind === 'now' &&
    samePolicy(definition.retryPolicy, last.retryPolicy) &&
    definition.timeout === last.timeout &&
    definition.overlap === last.overlap &&
    definition.missedRuns === last.missedRuns &&
    definition.concurrency === last.concurrency
  ) {
    return lastSettingsText;
  }
  const policy = definition.retryPolicy;
  let policyText =
    `{"maxAttempts":${encodeNumber(policy.maxAttempts)}` +
    `,"initialDelay":${encodeNumber(policy.initialDelay)}` +
    `,"maxDelay":${encodeNumber(policy.maxDelay)}` +
    `,"backoffFactor":${encodeNumber(policy.backoffFactor)}`;
  if (policy.jitter !== undefined) policyText += `,"jitter":${quote(policy.jitter)}`;
  const text =
    `,"timing":${encode(definition.timing)},"retryPolicy":${policyText}}` +
    `,"timeout":${encodeNumber(definition.timeout)},"overlap":${quote(definition.overlap)}` +
    `,"missedRuns":${quote(definition.missedRuns)}` +
    `,"concurrency":${encodeNumber(definition.concurrency)}`;
  // Copies of primitives: a definition changed later (a subscriber holds each) cannot make it lie.
  lastSettings = {
    timing: { kind: definition.timing.kind },
    retryPolicy: { ...policy },
    timeout: definition.timeout,
    overlap: definition.overlap,
    missedRuns: definition.missedRuns,
    concurrency: definition.concurrency,
  };
  lastSettingsText = text;
  return text;
}

type StoredPolicy = JobDefinition['retryPolicy'];

function samePolicy(a: StoredPolicy, b: StoredPolicy): boolean {
  return (
    a.maxAttempts === b.maxAttempts &&
    a.initialDelay === b.initialDelay &&
    a.maxDelay === b.maxDelay &&
    a.backoffFactor === b.backoffFactor &&
    a.jitter === b.jitter
  );
}

export function decode(text: string | null): unknown {
  return text === null ? undefined : JSON.parse(text, reviver);
}

/**
 * Why a payload cannot be kept, or `undefined` when it can. The text it was encoded to is kept
 * for `encodeDefinition`: a durable `submitJob` checks its payload and then, with no caller's
 * code in between, encodes it, and an object payload costs a microsecond a time.
 */
export function unserializableReason(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  let text: string | undefined;
  try {
    text = stringify(value);
  } catch (error) {
    return (error as Error).message;
  }
  if (text === undefined) return 'JSON has no form for it';
  checkedValue = value;
  checkedText = text;
  return undefined;
}

/** The payload `unserializableReason` checked last, and its text, until it is taken. */
let checkedValue: unknown;
let checkedText: string | undefined;

/**
 * `encode(payload)`, from the check's text when `payload` is the value checked last. Taken once:
 * a value can change after it was checked, and any other caller encodes it afresh.
 */
function encodePayload(payload: unknown): string | null {
  if (checkedText !== undefined && payload === checkedValue) {
    const text = checkedText;
    checkedValue = undefined;
    checkedText = undefined;
    return text;
  }
  return encode(payload);
}
