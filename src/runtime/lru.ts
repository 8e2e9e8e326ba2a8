// A least-recently-used map bounded by the bytes its values cost (the cost
// is the caller's estimate, given with each value). A Map keeps insertion
// order, so its first key is always the least recently used one.

export class ByteLru<K, V> {
  private readonly map = new Map<K, { value: V; cost: number }>();
  private total = 0;

  constructor(readonly limit: number) {}

  /** The sum of the costs of the values held. */
  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.map.size;
  }

  /** The value, now the most recently used. */
  get(key: K): V | undefined {
    const hit = this.map.get(key);
    if (!hit) return undefined;
    this.map.delete(key);
    this.map.set(key, hit);
    return hit.value;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** Holds `value` (replacing any under `key`), then drops the least recently used until within the limit. */
  set(key: K, value: V, cost: number): void {
    this.delete(key);
    this.map.set(key, { value, cost });
    this.total += cost;
    for (const [k, v] of this.map) {
      if (this.total <= this.limit) break;
      this.map.delete(k);
      this.total -= v.cost;
    }
  }

  delete(key: K): boolean {
    const old = this.map.get(key);
    if (!old) return false;
    this.map.delete(key);
    this.total -= old.cost;
    return true;
  }

  clear(): void {
    this.map.clear();
    this.total = 0;
  }
}
