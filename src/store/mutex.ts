/** A FIFO async mutex: one unit of work at a time on a store connection. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  /** Runs `fn` after every previously queued holder has finished. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    // The next holder waits for this one whether it succeeded or not.
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
