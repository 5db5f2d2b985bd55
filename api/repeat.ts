/** A background task that runs again and again until stopped. */
export interface Repeating {
  /** Lets the pass under way finish and runs no more. */
  stop(): Promise<void>;
}

/**
 * Runs `pass` now, then again `intervalMs` after each pass ends, until stopped. A pass that fails
 * goes to `onError` and the next one runs as usual: background work retries by itself.
 */
export function repeat(pass: () => Promise<unknown>, intervalMs: number, onError: (error: unknown) => void): Repeating {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = async () => {
    running = pass().then(() => undefined, onError);
    await running;
    if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
  };
  void tick();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
