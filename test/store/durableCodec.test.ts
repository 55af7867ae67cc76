import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../src/durableCodec.js';

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

describe('durable codec', () => {
  it('round-trips infinities at any depth, on the fast path and past it', () => {
    fc.assert(
      fc.property(valueWithInfinities, (value) => {
        expect(decode(encode(value))).toEqual(value);
      }),
      { numRuns: 500, seed: 7 },
    );
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
