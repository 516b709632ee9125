/**
 * Launch pushes one undo step per resource as it creates it; close runs them once, in reverse,
 * each in its own try so a missing piece never stops the rest. A second call waits on
 * the first.
 */
export class UndoStack {
  private readonly steps: Array<{ name: string; run: () => Promise<void> | void }> = [];
  private running: Promise<string[]> | null = null;

  push(name: string, run: () => Promise<void> | void): void {
    this.steps.push({ name, run });
  }

  /** Resolves with the names of the steps that failed (empty = clean). Never rejects. */
  run(): Promise<string[]> {
    this.running ??= (async () => {
      const failed: string[] = [];
      for (const step of this.steps.splice(0).reverse()) {
        try {
          await step.run();
        } catch {
          failed.push(step.name);
        }
      }
      return failed;
    })();
    return this.running;
  }
}
