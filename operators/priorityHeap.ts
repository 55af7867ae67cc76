/**
 * A binary max-heap keyed by a number, FIFO among equal keys. Push and pop are O(log n) and
 * nothing is ever shifted from the front of an array, which is what makes RxJS's own mergeMap
 * buffer quadratic on a large backlog.
 */
interface HeapEntry<T> {
  readonly key: number;
  readonly sequence: number;
  readonly value: T;
}

export class PriorityHeap<T> {
  readonly #entries: HeapEntry<T>[] = [];
  #sequence = 0;

  get size(): number {
    return this.#entries.length;
  }

  push(value: T, key: number): void {
    const entries = this.#entries;
    const entry: HeapEntry<T> = { key, sequence: this.#sequence++, value };
    let index = entries.length;
    entries.push(entry);
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = entries[parentIndex] as HeapEntry<T>;
      if (!before(entry, parent)) break;
      entries[index] = parent;
      index = parentIndex;
    }
    entries[index] = entry;
  }

  /** Removes and returns the highest-keyed value, the oldest among equals. */
  pop(): T | undefined {
    const entries = this.#entries;
    const top = entries[0];
    const last = entries.pop();
    if (top === undefined || last === undefined) return undefined;
    if (entries.length > 0) this.#siftDown(last);
    return top.value;
  }

  clear(): void {
    this.#entries.length = 0;
  }

  #siftDown(entry: HeapEntry<T>): void {
    const entries = this.#entries;
    const length = entries.length;
    let index = 0;
    for (;;) {
      let childIndex = 2 * index + 1;
      if (childIndex >= length) break;
      let child = entries[childIndex] as HeapEntry<T>;
      const right = entries[childIndex + 1];
      if (right !== undefined && before(right, child)) {
        childIndex += 1;
        child = right;
      }
      if (!before(child, entry)) break;
      entries[index] = child;
      index = childIndex;
    }
    entries[index] = entry;
  }
}

function before<T>(a: HeapEntry<T>, b: HeapEntry<T>): boolean {
  return a.key > b.key || (a.key === b.key && a.sequence < b.sequence);
}
