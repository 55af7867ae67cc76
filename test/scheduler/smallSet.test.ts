import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SmallSet } from '../../src/smallSet.js';

describe('SmallSet', () => {
  it('behaves like a Set over any sequence of adds, deletes and clears', () => {
    const operation = fc.oneof(
      fc.record({ op: fc.constant('add' as const), value: fc.integer({ min: 0, max: 4 }) }),
      fc.record({ op: fc.constant('delete' as const), value: fc.integer({ min: 0, max: 4 }) }),
      fc.record({ op: fc.constant('clear' as const), value: fc.constant(0) }),
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 30 }), (operations) => {
        const small = new SmallSet<number>();
        const set = new Set<number>();
        for (const { op, value } of operations) {
          if (op === 'add') expect(small.add(value)).toBe(small);
          if (op === 'add') set.add(value);
          if (op === 'delete') expect(small.delete(value)).toBe(set.delete(value));
          if (op === 'clear') {
            small.clear();
            set.clear();
          }
          expect(small.size).toBe(set.size);
          expect([...small]).toEqual([...set]);
          for (let probe = 0; probe <= 4; probe++) expect(small.has(probe)).toBe(set.has(probe));
        }
      }),
    );
  });

  it('compares members as a Set does: NaN equals NaN', () => {
    const small = new SmallSet<number>();
    small.add(Number.NaN).add(Number.NaN);
    expect(small.size).toBe(1);
    expect(small.has(Number.NaN)).toBe(true);
    expect(small.delete(Number.NaN)).toBe(true);
    expect(small.size).toBe(0);
  });
});
