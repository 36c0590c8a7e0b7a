// A binary max-heap over objects with a caller-given "a before b" order. The BPE trainer keeps its
// candidate merges here with lazy deletion (stale entries are re-checked when popped), as the
// Hugging Face trainer does with its BinaryHeap; the order decides ties, so it is a parameter.

export class MaxHeap<T> {
  private readonly items: T[] = [];

  /** `before(a, b)` is true when a must be popped before b. */
  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    const items = this.items;
    let i = items.length;
    items.push(item);
    // Sift up: move the hole towards the root while the parent comes after the new item.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(item, items[parent]!)) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = item;
  }

  pop(): T | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const top = items[0]!;
    const last = items.pop()!;
    const n = items.length;
    if (n > 0) {
      // Sift down the former last item from the root.
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const child = r < n && this.before(items[r]!, items[l]!) ? r : l;
        if (!this.before(items[child]!, last)) break;
        items[i] = items[child]!;
        i = child;
      }
      items[i] = last;
    }
    return top;
  }
}
