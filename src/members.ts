/**
 * The members of a small set, kept in one field: none as `undefined`, one as itself, several in a
 * Set. A job almost always has at most one queued run, one running attempt and one backoff, and
 * a job waiting in a backlog of a million holds that one run with no wrapper around it; even a
 * wrapper that kept its first member inline cost each job 48 bytes. Members are objects that
 * are never Sets themselves, so `instanceof Set` tells the cases apart.
 */
export type Members<T extends object> = T | Set<T> | undefined;

function isMany<T extends object>(members: Members<T>): members is Set<T> {
  return members instanceof Set;
}

/** The members with `value` added; a Set is added to in place. */
export function addMember<T extends object>(members: Members<T>, value: T): Members<T> {
  if (members === undefined || members === value) return value;
  if (isMany(members)) return members.add(value);
  return new Set([members, value]);
}

/** The members without `value`; a Set is deleted from in place, and none left is `undefined`. */
export function deleteMember<T extends object>(members: Members<T>, value: T): Members<T> {
  if (members === value) return undefined;
  if (!isMany(members)) return members;
  members.delete(value);
  return members.size === 0 ? undefined : members;
}

export function memberCount<T extends object>(members: Members<T>): number {
  if (members === undefined) return 0;
  return isMany(members) ? members.size : 1;
}

/** The members in the order they were added, as an array that later changes leave alone. */
export function memberList<T extends object>(members: Members<T>): T[] {
  if (members === undefined) return [];
  return isMany(members) ? [...members] : [members];
}
