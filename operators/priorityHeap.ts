/**
 * A binary max-heap keyed by a number, FIFO among equal keys. Values with the same key share a
 * bucket (a queue read from a moving head), and the heap orders the buckets, so push and pop
 * cost O(log k) for k distinct keys waiting: O(1) for the usual handful of priority levels, and
 * never worse than O(log n). Nothing is ever shifted from the front of an array, which is what
 * makes RxJS's own mergeMap buffer quadratic on a large backlog.
 */
class Bucket<T> {
  readonly key: number;
  values: T[] = [];
  head = 0;

  constructor(key: number) {
    this.key = key;
  }
}

/** A bucket's consumed front is cut off once it is this long and half the array. */
const COMPACT_AFTER = 1024;

export class PriorityHeap<T> {
  /** Buckets with at least one value, as a binary heap on `key`. */
  readonly #heap: Bucket<T>[] = [];
  readonly #byKey = new Map<number, Bucket<T>>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(value: T, key: number): void {
    // -0 and 0 are one key, as they compare equal.
    let bucket = this.#byKey.get(key);
    if (bucket === undefined) {
      bucket = new Bucket<T>(key);
      this.#byKey.set(key, bucket);
      this.#siftUp(bucket);
    }
    bucket.values.push(value);
    this.#size += 1;
  }

  /** Removes and returns the highest-keyed value, the oldest among equals. */
  pop(): T | undefined {
    const top = this.#heap[0];
    if (top === undefined) return undefined;
    const { values } = top;
    const value = values[top.head] as T;
    // Releases the value at once, as a pop would.
    values[top.head] = undefined as T;
    top.head += 1;
    this.#size -= 1;
    if (top.head === values.length) {
      this.#byKey.delete(top.key);
      const last = this.#heap.pop() as Bucket<T>;
      if (last !== top) this.#siftDown(last);
    } else if (top.head >= COMPACT_AFTER && top.head * 2 >= values.length) {
      values.splice(0, top.head);
      top.head = 0;
    }
    return value;
  }

  clear(): void {
    this.#heap.length = 0;
    this.#byKey.clear();
    this.#size = 0;
  }

  #siftUp(bucket: Bucket<T>): void {
    const heap = this.#heap;
    let index = heap.length;
    heap.push(bucket);
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex] as Bucket<T>;
      if (!(bucket.key > parent.key)) break;
      heap[index] = parent;
      index = parentIndex;
    }
    heap[index] = bucket;
  }

  /** Puts `bucket` in the root's place and sinks it to where it belongs. */
  #siftDown(bucket: Bucket<T>): void {
    const heap = this.#heap;
    const length = heap.length;
    let index = 0;
    for (;;) {
      let childIndex = 2 * index + 1;
      if (childIndex >= length) break;
      let child = heap[childIndex] as Bucket<T>;
      const right = heap[childIndex + 1];
      if (right !== undefined && right.key > child.key) {
        childIndex += 1;
        child = right;
      }
      if (!(child.key > bucket.key)) break;
      heap[index] = child;
      index = childIndex;
    }
    heap[index] = bucket;
  }
}
