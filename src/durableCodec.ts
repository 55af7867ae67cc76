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

function reviver(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const record = value as { $number?: unknown; $error?: EncodedError['$error'] };
  if (record.$number === 'Infinity') return Number.POSITIVE_INFINITY;
  if (record.$number === '-Infinity') return Number.NEGATIVE_INFINITY;
  if (record.$error !== undefined) {
    const { name, message, ...fields } = record.$error;
    // The class is gone after a restart; the name, message and fields (jobId, ms) are not.
    return Object.assign(new Error(message), fields, { name });
  }
  return value;
}

/** Encodes for storage; `undefined` stays SQL NULL. */
export function encode(value: unknown): string | null {
  if (value === undefined) return null;
  try {
    return JSON.stringify(value, replacer) ?? null;
  } catch {
    return JSON.stringify({ $unserializable: String(value) });
  }
}

export function decode(text: string | null): unknown {
  return text === null ? undefined : JSON.parse(text, reviver);
}

/** Why a payload cannot be kept, or `undefined` when it can. */
export function unserializableReason(value: unknown): string | undefined {
  try {
    if (value !== undefined && JSON.stringify(value, replacer) === undefined)
      return 'JSON has no form for it';
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
