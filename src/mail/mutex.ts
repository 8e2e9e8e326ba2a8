/** Runs async sections one at a time, in call order. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  run<T>(fn: () => Promise<T>): Promise<T> {
    this.pending++;
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    void this.tail.then(() => this.pending--);
    return result;
  }

  /** No section running or waiting. */
  get idle(): boolean {
    return this.pending === 0;
  }
}
