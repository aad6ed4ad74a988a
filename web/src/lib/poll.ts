// Polling with backoff: quick at first (most jobs finish in seconds), slower as it goes, and
// stopped as soon as the answer is final or the page goes away.
export interface Backoff {
  initialMs: number;
  factor: number;
  maxMs: number;
}

// A job is usually ready 2-5 s after the upload, and the person waits for whatever gap the
// poll leaves after that: gaps stay under a second for the first 10 s (about 15 small GETs),
// then grow to 5 s. (1 s ×1.5 left a 2.3 s gap around 4 s: a third of the wait.)
export const DEFAULT_BACKOFF: Backoff = { initialMs: 400, factor: 1.1, maxMs: 5000 };

/** The wait before attempt `attempt` (0-based), honouring a server's Retry-After if longer. */
export function nextDelay(attempt: number, backoff: Backoff = DEFAULT_BACKOFF, retryAfterSeconds: number | null = null): number {
  const base = Math.round(Math.min(backoff.maxMs, backoff.initialMs * backoff.factor ** attempt));
  return Math.max(base, (retryAfterSeconds ?? 0) * 1000);
}

export interface PollOptions<T> {
  load: () => Promise<T>;
  /** true when no further change is expected. */
  done: (value: T) => boolean;
  onValue: (value: T) => void;
  onError?: (error: unknown) => void;
  /** An error after which asking again cannot help (not found, signed out): stop. */
  fatal?: (error: unknown) => boolean;
  backoff?: Backoff;
  /** Stop after this many ms in total (the page then says so). */
  timeoutMs?: number;
  onTimeout?: () => void;
  schedule?: (run: () => void, ms: number) => unknown;
  cancel?: (handle: unknown) => void;
  now?: () => number;
}

/** Starts polling at once; returns the function that stops it. */
export function poll<T>(options: PollOptions<T>): () => void {
  const schedule = options.schedule ?? ((run, ms) => setTimeout(run, ms));
  const cancel = options.cancel ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>));
  const now = options.now ?? Date.now;
  const started = now();
  let attempt = 0;
  let stopped = false;
  let handle: unknown = null;

  const tick = async () => {
    if (stopped) return;
    let retryAfter: number | null = null;
    try {
      const value = await options.load();
      if (stopped) return;
      options.onValue(value);
      if (options.done(value)) {
        stopped = true;
        return;
      }
    } catch (error) {
      if (stopped) return;
      retryAfter = (error as { retryAfter?: number | null }).retryAfter ?? null;
      options.onError?.(error);
      if (options.fatal?.(error)) {
        stopped = true;
        return;
      }
    }
    if (options.timeoutMs !== undefined && now() - started >= options.timeoutMs) {
      stopped = true;
      options.onTimeout?.();
      return;
    }
    handle = schedule(tick, nextDelay(attempt++, options.backoff, retryAfter));
  };
  void tick();
  return () => {
    stopped = true;
    if (handle !== null) cancel(handle);
  };
}
