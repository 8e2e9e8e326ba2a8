// Buffers kept between the batches of a burst of work (a 50,000-message
// FETCH), so the burst does not allocate its bytes afresh each time: fresh
// buffers count towards V8's old-generation limit, which the server keeps
// tight (runtime/idle-gc.ts), and made it collect every few MB (issue 14).
// Once nothing has been taken or given back for a while, the spares go, so
// an idle server holds none.

export class SparePool<T> {
  private readonly spares: T[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly max: number,
    private readonly idleMs = 5_000,
  ) {}

  /** A spare, if there is one. */
  take(): T | undefined {
    this.touch();
    return this.spares.pop();
  }

  /** Keeps `item` for reuse (the caller no longer uses it), up to `max` of them. */
  give(item: T): void {
    if (this.spares.length < this.max) this.spares.push(item);
    this.touch();
  }

  get size(): number {
    return this.spares.length;
  }

  private touch(): void {
    if (this.timer) {
      this.timer.refresh();
      return;
    }
    this.timer = setTimeout(() => {
      this.spares.length = 0;
      this.timer = null;
    }, this.idleMs);
    this.timer.unref();
  }
}
