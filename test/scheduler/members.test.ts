import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addMember,
  deleteMember,
  type Members,
  memberCount,
  memberList,
} from '../../src/members.js';

describe('Members', () => {
  it('behaves like a Set over any sequence of adds and deletes', () => {
    const pool = [{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }];
    const operation = fc.record({
      op: fc.constantFrom('add' as const, 'delete' as const),
      index: fc.integer({ min: 0, max: pool.length - 1 }),
    });
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 30 }), (operations) => {
        let members: Members<{ n: number }>;
        const set = new Set<{ n: number }>();
        for (const { op, index } of operations) {
          const value = pool[index] as { n: number };
          if (op === 'add') {
            members = addMember(members, value);
            set.add(value);
          } else {
            members = deleteMember(members, value);
            set.delete(value);
          }
          expect(memberCount(members)).toBe(set.size);
          expect(memberList(members)).toEqual([...set]);
          // Nothing left is nothing held: no empty Set stays behind.
          if (set.size === 0) expect(members).toBeUndefined();
        }
      }),
    );
  });

  it('holds one member as itself, and makes a Set only for a second', () => {
    const first = { n: 1 };
    const second = { n: 2 };
    const one = addMember(undefined, first);
    expect(one).toBe(first);
    expect(addMember(one, first)).toBe(first);
    const two = addMember(one, second);
    expect(two).toBeInstanceOf(Set);
    expect(memberList(two)).toEqual([first, second]);
  });

  it('gives a list that later changes leave alone', () => {
    const first = { n: 1 };
    const second = { n: 2 };
    const members = addMember(addMember(undefined, first), second);
    const list = memberList(members);
    deleteMember(members, first);
    expect(list).toEqual([first, second]);
    expect(memberList(members)).toEqual([second]);
  });
});
