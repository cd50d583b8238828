import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRefreshScheduler, type RefreshSchedulerOptions } from './scheduler';

interface Code {
  n: number;
  exp: number;
}

const TTL = 60_000;

function setup(overrides: Partial<RefreshSchedulerOptions<Code>> = {}) {
  let n = 0;
  const shown: number[] = [];
  const ticks: number[] = [];
  const errors: boolean[] = [];
  let expired = 0;
  const load = vi.fn(async (): Promise<Code> => ({ n: ++n, exp: Date.now() + TTL }));
  const s = createRefreshScheduler<Code>({
    load,
    expiresAt: (c) => c.exp,
    now: () => Date.now(),
    onItem: (c) => {
      shown.push(c.n);
    },
    onTick: (rem) => ticks.push(rem),
    onError: (_e, willRetry) => errors.push(willRetry),
    onExpired: () => {
      expired++;
    },
    leadMs: 8_000,
    ...overrides,
  });
  return { s, load, shown, ticks, errors, expired: () => expired };
}

describe('createRefreshScheduler', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2025-03-12T08:00:00Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('should load at once and tick down every second', async () => {
    const t = setup();
    t.s.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(t.shown).toEqual([1]);
    expect(t.ticks[0]).toBe(TTL);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(t.ticks.slice(0, 4)).toEqual([60_000, 59_000, 58_000, 57_000]);
    t.s.stop();
  });

  it('should fetch the next code lead time before expiry, not after', async () => {
    const t = setup();
    t.s.start();
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(TTL - 8_000 - 1);
    expect(t.load).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.load).toHaveBeenCalledTimes(2);
    expect(t.shown).toEqual([1, 2]);
    expect(t.expired()).toBe(0);
    t.s.stop();
  });

  it('should keep the old code on screen until the next one is ready', async () => {
    let release: () => void = () => undefined;
    const shown: number[] = [];
    const t = setup({
      onItem: async (c) => {
        if (c.n > 1) await new Promise<void>((r) => (release = r));
        shown.push(c.n);
      },
    });
    t.s.start();
    await vi.advanceTimersByTimeAsync(TTL - 8_000);
    expect(t.load).toHaveBeenCalledTimes(2);
    // The second image is still decoding: the countdown keeps counting the first code.
    await vi.advanceTimersByTimeAsync(2_000);
    expect(t.ticks.at(-1)).toBe(6_000);
    expect(shown).toEqual([1]);
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(shown).toEqual([1, 2]);
    // The countdown now follows the second code, minted two seconds ago.
    expect(t.ticks.at(-1)).toBe(TTL - 2_000);
    t.s.stop();
  });

  it('should retry with back-off and report expiry when no new code arrives', async () => {
    let calls = 0;
    const t = setup({
      load: async () => {
        calls++;
        if (calls === 1) return { n: 1, exp: Date.now() + TTL };
        throw new Error('offline');
      },
      retryDelaysMs: [1_000, 2_000, 5_000],
    });
    t.s.start();
    await vi.advanceTimersByTimeAsync(TTL - 8_000);
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toBe(3);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(calls).toBe(4);
    expect(t.errors).toEqual([true, true, true]);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(t.expired()).toBe(1);
    t.s.stop();
  });

  it('should stop retrying on a fatal error', async () => {
    const t = setup({
      load: async () => {
        throw new Error('gone');
      },
      isFatal: () => true,
    });
    t.s.start();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(t.errors).toEqual([false]);
    t.s.stop();
  });

  it('should drop a stale answer when refreshed mid-flight', async () => {
    const resolvers: ((c: Code) => void)[] = [];
    const t = setup({
      load: () => new Promise<Code>((r) => resolvers.push(r)),
    });
    t.s.start();
    t.s.refreshNow();
    expect(resolvers).toHaveLength(2);
    resolvers[1]?.({ n: 2, exp: Date.now() + TTL });
    resolvers[0]?.({ n: 1, exp: Date.now() + TTL });
    await vi.advanceTimersByTimeAsync(0);
    expect(t.shown).toEqual([2]);
    t.s.stop();
  });

  it('should pause while hidden and load at once on return if the code went stale', async () => {
    const t = setup();
    t.s.start();
    await vi.advanceTimersByTimeAsync(0);
    t.s.pause();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(t.load).toHaveBeenCalledTimes(1);
    t.s.resume();
    await vi.advanceTimersByTimeAsync(0);
    expect(t.load).toHaveBeenCalledTimes(2);
    t.s.stop();
  });

  it('should do nothing after stop', async () => {
    const t = setup();
    t.s.start();
    await vi.advanceTimersByTimeAsync(0);
    t.s.stop();
    const ticks = t.ticks.length;
    await vi.advanceTimersByTimeAsync(300_000);
    expect(t.load).toHaveBeenCalledTimes(1);
    expect(t.ticks.length).toBe(ticks);
    expect(t.s.running).toBe(false);
  });

  it('should shorten the lead for short-lived codes', async () => {
    const load = vi.fn(async (): Promise<Code> => ({ n: 1, exp: Date.now() + 9_000 }));
    const t = setup({ load });
    t.s.start();
    await vi.advanceTimersByTimeAsync(0);
    // A third of 9 s is 3 s, less than the 8 s lead asked for.
    await vi.advanceTimersByTimeAsync(5_999);
    expect(load).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(load).toHaveBeenCalledTimes(2);
    t.s.stop();
  });
});
