/** What a SmallSet lets its readers do. */
export type ReadonlySmallSet<T> = Pick<SmallSet<T>, 'size' | 'has'> & Iterable<T>;

/**
 * A Set that holds its first member inline and makes a real Set only for a second one. A job
 * has at most one queued run and one running attempt almost always; an empty `Set` costs about
 * 150 bytes, this 40. A job makes each of its three only when it first needs it.
 * Iteration follows insertion order, as a Set's does.
 */
export class SmallSet<T> implements Iterable<T> {
  #one: T | undefined;
  #hasOne = false;
  #many: Set<T> | undefined;

  get size(): number {
    return this.#many?.size ?? (this.#hasOne ? 1 : 0);
  }

  has(value: T): boolean {
    return this.#many?.has(value) ?? (this.#hasOne && sameValueZero(this.#one, value));
  }

  add(value: T): this {
    if (this.#many !== undefined) {
      this.#many.add(value);
    } else if (!this.#hasOne) {
      this.#one = value;
      this.#hasOne = true;
    } else if (!sameValueZero(this.#one, value)) {
      this.#many = new Set([this.#one as T, value]);
      this.#one = undefined;
      this.#hasOne = false;
    }
    return this;
  }

  delete(value: T): boolean {
    if (this.#many !== undefined) return this.#many.delete(value);
    if (!this.#hasOne || !sameValueZero(this.#one, value)) return false;
    this.#one = undefined;
    this.#hasOne = false;
    return true;
  }

  clear(): void {
    this.#one = undefined;
    this.#hasOne = false;
    this.#many = undefined;
  }

  *[Symbol.iterator](): Iterator<T> {
    if (this.#many !== undefined) yield* this.#many;
    else if (this.#hasOne) yield this.#one as T;
  }
}

/** How a Set compares its members: like `===`, except that NaN equals NaN. */
function sameValueZero(a: unknown, b: unknown): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}
