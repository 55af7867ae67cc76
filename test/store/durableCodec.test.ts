import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encode, encodeDefinition, unserializableReason } from '../../src/durableCodec.js';
import type { JobDefinition } from '../../src/types.js';

/** JSON values with infinities anywhere in them, which plain JSON would turn into null. */
const valueWithInfinities = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (n === 0 ? 0 : n)),
    fc.constantFrom(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string(), tie('value'), { maxKeys: 4 }),
  ),
})).value;

const anyNumber = fc.oneof(
  fc.double(),
  fc.constantFrom(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 1e21),
);

/** The fields of a definition that jobs of one kind share. */
const SETTINGS = [
  'timing',
  'retryPolicy',
  'timeout',
  'overlap',
  'missedRuns',
  'concurrency',
] as const;

/** Definitions of every shape, with strings that need escaping and numbers JSON cannot hold. */
const definition: fc.Arbitrary<JobDefinition> = fc.record(
  {
    id: fc.string(),
    name: fc.string(),
    type: fc.constantFrom('immediate', 'scheduled', 'cron', 'recurring', 'batch' as const),
    priority: anyNumber,
    payload: fc.oneof(valueWithInfinities, fc.constant(undefined)),
    timing: fc.oneof(
      fc.constant({ kind: 'now' as const }),
      fc.record({ kind: fc.constant('once' as const), startTime: anyNumber }),
      fc.record({ kind: fc.constant('cron' as const), cronExpr: fc.string() }),
    ),
    retryPolicy: fc.record(
      {
        maxAttempts: anyNumber,
        initialDelay: anyNumber,
        maxDelay: anyNumber,
        backoffFactor: anyNumber,
        jitter: fc.constantFrom('none', 'full', 'equal' as const),
      },
      { requiredKeys: ['maxAttempts', 'initialDelay', 'maxDelay', 'backoffFactor'] },
    ),
    timeout: anyNumber,
    overlap: fc.constantFrom('skip', 'queue', 'allow' as const),
    missedRuns: fc.constantFrom('skip', 'once' as const),
    concurrency: anyNumber,
    parentId: fc.string(),
    childIds: fc.array(fc.string(), { maxLength: 3 }),
  },
  {
    requiredKeys: ['id', 'name', 'type', 'priority', 'payload', ...SETTINGS],
  },
) as fc.Arbitrary<JobDefinition>;

describe('durable codec', () => {
  it('writes a definition field by field as encode() would', () => {
    fc.assert(
      fc.property(definition, (value) => {
        const text = encodeDefinition(value);
        expect(decode(text)).toEqual(decode(encode(value)));
      }),
      { numRuns: 1000, seed: 11 },
    );
  });

  it('reuses the text of settings only while they are equal in value', () => {
    // Pairs that share all their settings, or all but some, one after the other.
    const pair = fc
      .tuple(definition, definition, fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }))
      .map(([first, other, takeOther]) => {
        const now = { ...first, timing: { kind: 'now' as const } };
        const second: Record<string, unknown> = { ...other };
        SETTINGS.forEach((key, index) => {
          second[key] = takeOther[index] ? other[key] : now[key];
        });
        return [now, second as unknown as JobDefinition] as const;
      });
    fc.assert(
      fc.property(pair, ([first, second]) => {
        expect(decode(encodeDefinition(first))).toEqual(decode(encode(first)));
        expect(decode(encodeDefinition(second))).toEqual(decode(encode(second)));
      }),
      { numRuns: 1000, seed: 13 },
    );
  });

  it('sees a policy changed in place since the last definition it encoded', () => {
    const policy = { maxAttempts: 3, initialDelay: 10, maxDelay: 100, backoffFactor: 2 };
    const job = { ...sampleDefinition(), retryPolicy: policy };
    encodeDefinition(job);
    policy.maxAttempts = 7;
    expect(decode(encodeDefinition(job))).toMatchObject({ retryPolicy: { maxAttempts: 7 } });
  });

  it('encodes a payload it has just checked once, and afresh after that', () => {
    const payload = { to: 'ada@example.com', tries: Number.POSITIVE_INFINITY };
    const job = { ...sampleDefinition(), payload };
    expect(unserializableReason(payload)).toBeUndefined();
    expect(decode(encodeDefinition(job))).toEqual(decode(encode(job)));
    // The check's text is taken by that encoding: a change made since is seen by the next.
    payload.to = 'grace@example.com';
    expect(decode(encodeDefinition(job))).toMatchObject({ payload: { to: 'grace@example.com' } });
    // A payload other than the one checked is encoded from itself.
    expect(unserializableReason({ other: true })).toBeUndefined();
    expect(decode(encodeDefinition(job))).toMatchObject({ payload: { to: 'grace@example.com' } });
  });

  it('says why a payload cannot be kept', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(unserializableReason(() => 1)).toBe('JSON has no form for it');
    expect(unserializableReason(10n)).toMatch(/BigInt/);
    expect(unserializableReason({ deep: { deeper: { deepest: { cycle } } } })).toMatch(/circular/);
    expect(unserializableReason(undefined)).toBeUndefined();
  });

  it('round-trips infinities at any depth, on the fast path and past it', () => {
    fc.assert(
      fc.property(valueWithInfinities, (value) => {
        expect(decode(encode(value))).toEqual(value);
      }),
      { numRuns: 500, seed: 7 },
    );
  });

  it('never throws on JSON it did not write, and reads only its own tags as tags', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(() => decode(JSON.stringify(value) ?? 'null')).not.toThrow();
      }),
      { numRuns: 500, seed: 5 },
    );
    for (const data of [
      { $error: null },
      { $error: { name: 1, message: { toString: 1 } } },
      { $number: 'Infinity', unit: 'ms' },
      { $error: { name: 'E', message: 'm' }, also: true },
    ]) {
      expect(decode(encode(data))).toEqual(data);
    }
  });

  it('keeps the name, message and fields of an error', () => {
    const error = Object.assign(new RangeError('too slow'), { jobId: 'job-1', ms: 50 });
    const decoded = decode(encode({ error })) as { error: Error & { jobId: string; ms: number } };
    expect(decoded.error).toBeInstanceOf(Error);
    expect(decoded.error).toMatchObject({
      name: 'RangeError',
      message: 'too slow',
      jobId: 'job-1',
      ms: 50,
    });
  });

  it('keeps all but the part JSON cannot hold: a cycle in an error, a BigInt in a result', () => {
    const request: Record<string, unknown> = { url: 'https://example.com' };
    request.self = request;
    const error = Object.assign(new Error('request failed'), { request, status: 503 });
    const snapshot = { id: 'job-1', status: 'retrying', error, result: { total: 10n, rows: 3 } };
    const decoded = decode(encode(snapshot)) as {
      id: string;
      status: string;
      error: Error & { request: unknown; status: number };
      result: unknown;
    };
    expect(decoded).toMatchObject({ id: 'job-1', status: 'retrying' });
    expect(decoded.error).toBeInstanceOf(Error);
    expect(decoded.error).toMatchObject({
      name: 'Error',
      message: 'request failed',
      status: 503,
      request: {
        url: 'https://example.com',
        self: { $unserializable: 'a reference to an object it is inside' },
      },
    });
    expect(decoded.result).toEqual({ total: { $unserializable: '10n' }, rows: 3 });
  });

  it('never throws on a value that throws when read, and keeps the rest', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const getter = Object.defineProperty({ ok: 1 }, 'broken', {
      enumerable: true,
      get: () => {
        throw new Error('not loaded');
      },
    });
    const snapshot = { id: 'job-1', status: 'completed', result: { proxy, getter } };
    expect(decode(encode(snapshot))).toEqual({
      id: 'job-1',
      status: 'completed',
      result: {
        proxy: { $unserializable: 'a value that throws when read' },
        getter: { $unserializable: 'a value that throws when read' },
      },
    });
  });

  it('never throws on a toJSON that throws or gives what JSON cannot hold', () => {
    const throwing = {
      toJSON() {
        throw new Error('no json');
      },
    };
    const error = Object.assign(new Error('request failed'), { toJSON: throwing.toJSON });
    const snapshot = { id: 'job-1', result: { big: { toJSON: () => 1n }, throwing }, error };
    expect(decode(encode(snapshot))).toEqual({
      id: 'job-1',
      result: {
        big: { $unserializable: '1n' },
        throwing: { $unserializable: 'a value whose toJSON throws' },
      },
      error: { $unserializable: 'a value whose toJSON throws' },
    });
  });

  it('never throws, whatever a record holds', () => {
    const { proxy: revoked, revoke } = Proxy.revocable({}, {});
    revoke();
    // By index: fast-check inspects the values it is given, and a revoked Proxy throws at that.
    const odd = [10n, revoked, { toJSON: () => 1n }, Object.assign(new Error('m'), { cause: 2n })];
    const anything = fc.anything({ withBigInt: true, withMap: true, withSet: true });
    fc.assert(
      fc.property(anything, fc.nat(odd.length - 1), (a, index) => {
        const b = odd[index];
        expect(() => encode({ id: 'job', result: [a, b], error: { a, b } })).not.toThrow();
      }),
    );
  });

  it('sees the infinity a toJSON returns, and writes a Date as its ISO string', () => {
    const custom = { toJSON: () => ({ limit: Number.POSITIVE_INFINITY }) };
    expect(decode(encode({ custom }))).toEqual({ custom: { limit: Number.POSITIVE_INFINITY } });
    expect(decode(encode({ at: new Date(0) }))).toEqual({ at: '1970-01-01T00:00:00.000Z' });
  });

  it('keeps undefined as SQL NULL and writes NaN as JSON does', () => {
    expect(encode(undefined)).toBeNull();
    expect(decode(null)).toBeUndefined();
    expect(encode({ n: Number.NaN })).toBe('{"n":null}');
  });
});

function sampleDefinition(): JobDefinition {
  return {
    id: 'job-1',
    name: 'send',
    type: 'immediate',
    priority: 1,
    payload: undefined,
    timing: { kind: 'now' },
    retryPolicy: { maxAttempts: 3, initialDelay: 10, maxDelay: 100, backoffFactor: 2 },
    timeout: 1000,
    overlap: 'skip',
    missedRuns: 'skip',
    concurrency: 1,
  };
}
