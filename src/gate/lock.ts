/** A FIFO async mutex per repo: pushes and refreshes of one repo are serialised. */
export class RepoLock {
  private tail: Promise<void> = Promise.resolve();
  private queuedRefresh: Promise<unknown> | null = null;

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /**
   * Single-flight refresh: callers arriving while a refresh is queued but not yet started share
   * it (it will see everything upstream had when they asked); once it runs, a new one is queued.
   */
  refresh<T>(fn: () => Promise<T>): Promise<T> {
    if (this.queuedRefresh) return this.queuedRefresh as Promise<T>;
    const p = this.run(async () => {
      if (this.queuedRefresh === p) this.queuedRefresh = null;
      return fn();
    });
    this.queuedRefresh = p;
    return p;
  }
}
