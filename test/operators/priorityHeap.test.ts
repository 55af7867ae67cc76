import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PriorityHeap } from '../../operators/priorityHeap.js';

/** Pops until empty. */
function drainHeap<T>(heap: PriorityHeap<T>): T[] {
  const out: T[] = [];
  while (heap.size > 0) out.push(heap.pop() as T);
  return out;
}

describe('PriorityHeap', () => {
  it('pops the highest key first', () => {
    const heap = new PriorityHeap<string>();
    heap.push('low', 1);
    heap.push('high', 9);
    heap.push('mid', 5);
    heap.push('negative', -3);
    expect(heap.size).toBe(4);
    expect(drainHeap(heap)).toEqual(['high', 'mid', 'low', 'negative']);
    expect(heap.size).toBe(0);
  });

  it('is FIFO among equal keys, also after the root has been replaced many times', () => {
    const heap = new PriorityHeap<string>();
    for (const name of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) heap.push(name, 0);
    heap.push('top', 1);
    expect(heap.pop()).toBe('top');
    heap.push('h', 0);
    expect(drainHeap(heap)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
  });

  it('orders -Infinity and Infinity keys like any other', () => {
    const heap = new PriorityHeap<string>();
    heap.push('bottom', Number.NEGATIVE_INFINITY);
    heap.push('zero', 0);
    heap.push('top', Number.POSITIVE_INFINITY);
    heap.push('top2', Number.POSITIVE_INFINITY);
    expect(drainHeap(heap)).toEqual(['top', 'top2', 'zero', 'bottom']);
  });

  it('returns undefined from an empty heap and stays usable', () => {
    const heap = new PriorityHeap<number>();
    expect(heap.pop()).toBeUndefined();
    expect(heap.size).toBe(0);
    heap.push(1, 1);
    expect(heap.pop()).toBe(1);
    expect(heap.pop()).toBeUndefined();
  });

  it('holds undefined as a value (size, not the popped value, says when it is empty)', () => {
    const heap = new PriorityHeap<undefined | string>();
    heap.push(undefined, 2);
    heap.push('x', 1);
    expect(heap.size).toBe(2);
    expect(heap.pop()).toBeUndefined();
    expect(heap.size).toBe(1);
    expect(heap.pop()).toBe('x');
  });

  it('clear() drops every value', () => {
    const heap = new PriorityHeap<number>();
    for (let i = 0; i < 10; i++) heap.push(i, i);
    heap.clear();
    expect(heap.size).toBe(0);
    expect(heap.pop()).toBeUndefined();
    heap.push(42, 0);
    expect(drainHeap(heap)).toEqual([42]);
  });

  it('keeps order over 100 000 values (no quadratic shift, no recursion)', () => {
    const heap = new PriorityHeap<number>();
    const count = 100_000;
    // Keys cycle through 0..9, so each key has 10 000 values that must come out FIFO.
    for (let i = 0; i < count; i++) heap.push(i, i % 10);
    let previous: number | undefined;
    let popped = 0;
    while (heap.size > 0) {
      const value = heap.pop() as number;
      if (previous !== undefined) {
        const ordered =
          previous % 10 > value % 10 || (previous % 10 === value % 10 && previous < value);
        if (!ordered) throw new Error(`${previous} popped before ${value}`);
      }
      previous = value;
      popped++;
    }
    expect(popped).toBe(count);
  });

  it('matches a stable sort of the same pushes, interleaved with pops (fixed seed)', () => {
    type Op = { readonly kind: 'push'; readonly key: number } | { readonly kind: 'pop' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), key: fc.integer({ min: -5, max: 5 }) }),
      fc.record({ kind: fc.constant('pop' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const heap = new PriorityHeap<number>();
        // Reference: an array kept sorted by key descending, insertion order among equals.
        const model: { key: number; id: number }[] = [];
        let id = 0;
        for (const step of ops) {
          if (step.kind === 'push') {
            heap.push(id, step.key);
            const at = model.findIndex((entry) => entry.key < step.key);
            model.splice(at === -1 ? model.length : at, 0, { key: step.key, id });
            id++;
          } else {
            expect(heap.pop()).toBe(model.shift()?.id);
          }
          expect(heap.size).toBe(model.length);
        }
        expect(drainHeap(heap)).toEqual(model.map((entry) => entry.id));
      }),
      { seed: 20_240_601, numRuns: 300 },
    );
  });
});
