// Keeps a short-lived item (a show code) fresh: loads one, ticks a countdown,
// fetches the next one shortly before the current one expires, retries with
// back-off on failure and says when the shown item has run out. Timers only,
// no DOM, so it can be driven with fake timers.

export interface RefreshSchedulerOptions<T> {
  /** load fetches a new item. */
  load: () => Promise<T>;
  /** expiresAt is the item's expiry in the clock of `now`. */
  expiresAt: (item: T) => number;
  /** now is the (server-synced) clock in milliseconds. */
  now: () => number;
  /** onItem shows the new item; the scheduler waits for it (e.g. an image decode). */
  onItem: (item: T) => void | Promise<void>;
  /** onTick reports the time left on the shown item. */
  onTick?: (remainingMs: number, totalMs: number) => void;
  /** onError reports a failed load; willRetry says whether another try is planned. */
  onError?: (err: unknown, willRetry: boolean) => void;
  /** onExpired fires once when the shown item ran out with no replacement. */
  onExpired?: () => void;
  /** isFatal stops retries for errors that cannot heal (no such licence…). */
  isFatal?: (err: unknown) => boolean;
  /** leadMs is how long before expiry the next item is fetched. */
  leadMs?: number;
  tickMs?: number;
  retryDelaysMs?: readonly number[];
}

export interface RefreshScheduler {
  start(): void;
  stop(): void;
  /** refreshNow drops the planned refresh and loads at once. */
  refreshNow(): void;
  /** pause stops all timers (page hidden); resume reloads if the item is stale. */
  pause(): void;
  resume(): void;
  readonly running: boolean;
}

const DEFAULT_RETRY = [1_000, 2_000, 5_000, 10_000] as const;

export function createRefreshScheduler<T>(opts: RefreshSchedulerOptions<T>): RefreshScheduler {
  const tickMs = opts.tickMs ?? 1_000;
  const retry = opts.retryDelaysMs ?? DEFAULT_RETRY;

  let running = false;
  let paused = false;
  let generation = 0;
  let loading = false;
  let failures = 0;
  let expiry: number | null = null;
  let total = 0;
  let expiredFired = false;
  let refreshTimer: ReturnType<typeof setTimeout> | null = null;
  let tickTimer: ReturnType<typeof setTimeout> | null = null;

  const clearRefresh = (): void => {
    if (refreshTimer !== null) clearTimeout(refreshTimer);
    refreshTimer = null;
  };
  const clearTick = (): void => {
    if (tickTimer !== null) clearTimeout(tickTimer);
    tickTimer = null;
  };

  const leadFor = (ttl: number): number => {
    const wanted = opts.leadMs ?? 8_000;
    // Never spend more than a third of a short TTL waiting on the network.
    return Math.max(0, Math.min(wanted, ttl / 3));
  };

  const tick = (): void => {
    tickTimer = null;
    if (!running || paused || expiry === null) return;
    const remaining = Math.max(0, expiry - opts.now());
    opts.onTick?.(remaining, total);
    if (remaining === 0) {
      if (!expiredFired) {
        expiredFired = true;
        opts.onExpired?.();
      }
      return;
    }
    // Align to whole units of the remaining time so the shown seconds step evenly.
    const next = remaining % tickMs || tickMs;
    tickTimer = setTimeout(tick, next);
  };

  const scheduleRefresh = (delay: number): void => {
    clearRefresh();
    refreshTimer = setTimeout(
      () => {
        refreshTimer = null;
        void load();
      },
      Math.max(0, delay),
    );
  };

  const load = async (): Promise<void> => {
    if (!running || paused || loading) return;
    loading = true;
    const gen = generation;
    try {
      const item = await opts.load();
      if (gen !== generation || !running) return;
      await opts.onItem(item);
      if (gen !== generation || !running) return;
      failures = 0;
      const n = opts.now();
      expiry = opts.expiresAt(item);
      total = Math.max(0, expiry - n);
      expiredFired = false;
      clearTick();
      tick();
      if (!paused) scheduleRefresh(expiry - leadFor(total) - n);
    } catch (err) {
      if (gen !== generation || !running) return;
      const fatal = opts.isFatal?.(err) ?? false;
      const willRetry = !fatal;
      opts.onError?.(err, willRetry);
      if (willRetry && !paused) {
        const delay = retry[Math.min(failures, retry.length - 1)] ?? 5_000;
        failures++;
        scheduleRefresh(delay);
      }
    } finally {
      if (gen === generation) loading = false;
    }
  };

  return {
    start(): void {
      if (running) return;
      running = true;
      paused = false;
      void load();
    },
    stop(): void {
      running = false;
      generation++;
      loading = false;
      clearRefresh();
      clearTick();
    },
    refreshNow(): void {
      if (!running) return;
      generation++;
      loading = false;
      failures = 0;
      clearRefresh();
      void load();
    },
    pause(): void {
      if (!running || paused) return;
      paused = true;
      generation++;
      loading = false;
      clearRefresh();
      clearTick();
    },
    resume(): void {
      if (!running || !paused) return;
      paused = false;
      const remaining = expiry === null ? 0 : expiry - opts.now();
      if (expiry !== null && remaining > leadFor(total)) {
        tick();
        scheduleRefresh(remaining - leadFor(total));
      } else {
        tick();
        void load();
      }
    },
    get running(): boolean {
      return running;
    },
  };
}
