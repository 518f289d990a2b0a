import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiError } from './api';
import { Poller, type Task, type TaskResult } from './poller';

const fail = (p: Partial<ApiError> = {}): TaskResult => ({
  ok: false,
  error: { kind: 'http', status: 503, code: 'unavailable', message: '', retryAfterMs: null, ...p },
});

function task(name: string, results: TaskResult[], enabled = () => true): Task & { calls: number[] } {
  const t = {
    name,
    calls: [] as number[],
    enabled,
    async run() {
      t.calls.push(Date.now());
      return results.length > 1 ? results.shift()! : results[0];
    },
  };
  return t;
}

describe('poller', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => vi.useRealTimers());

  it('runs calls independently: one failing does not delay the others', async () => {
    const state = task('state', [{ ok: true, nextMs: 2000 }]);
    const me = task('me', [fail()]);
    const p = new Poller([state, me], { random: () => 0 });
    p.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(state.calls).toEqual([0]);
    expect(me.calls).toEqual([0]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(state.calls).toEqual([0, 2000, 4000, 6000, 8000, 10000]);
    // me backs off: 3 s, then 6 s.
    expect(me.calls).toEqual([0, 3000, 9000]);
    p.pause();
  });

  it('honours Retry-After and resets the backoff on success', async () => {
    const t = task('state', [fail({ status: 429, code: 'rate_limited', retryAfterMs: 20_000 }), fail(), { ok: true, nextMs: 5000 }]);
    const p = new Poller([t], { random: () => 0 });
    p.start();
    await vi.advanceTimersByTimeAsync(40_000);
    // 0: 429 (wait 20 s); 20 s: 503 (backoff 6 s); 26 s: ok; then every 5 s.
    expect(t.calls).toEqual([0, 20_000, 26_000, 31_000, 36_000]);
    p.pause();
  });

  it('pauses while hidden and runs everything at once when visible again', async () => {
    const t = task('state', [{ ok: true, nextMs: 5000 }]);
    const p = new Poller([t], { random: () => 0 });
    p.start();
    await vi.advanceTimersByTimeAsync(1000);
    p.pause();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(t.calls).toEqual([0]);
    p.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(t.calls).toEqual([0, 61_000]);
    p.pause();
  });

  it('poke runs a call sooner; Retry runs failed calls now', async () => {
    const payout = task('payout', [{ ok: true, nextMs: 15_000 }]);
    const gifts = task('gifts', [fail({ kind: 'network', status: 0, code: 'network' })]);
    const p = new Poller([payout, gifts], { random: () => 0 });
    p.start();
    await vi.advanceTimersByTimeAsync(1000);
    p.poke('payout');
    await vi.advanceTimersByTimeAsync(0);
    expect(payout.calls).toEqual([0, 1000]);
    p.retryFailed();
    await vi.advanceTimersByTimeAsync(0);
    expect(gifts.calls).toEqual([0, 1000]);
    p.pause();
  });

  it('skips disabled tasks until poked', async () => {
    let identity = false;
    const me = task('me', [{ ok: true, nextMs: 10_000 }], () => identity);
    const p = new Poller([me], { random: () => 0 });
    p.start();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(me.calls).toEqual([]);
    identity = true;
    p.poke('me');
    await vi.advanceTimersByTimeAsync(0);
    expect(me.calls).toEqual([30_000]);
    p.pause();
  });

  it('a task answering nextMs null waits for a poke', async () => {
    const me = task('me', [{ ok: true, nextMs: null }]);
    const p = new Poller([me], { random: () => 0 });
    p.start();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(me.calls).toEqual([0]);
    p.poke('me', 1000);
    await vi.advanceTimersByTimeAsync(5000);
    expect(me.calls).toEqual([0, 601_000]);
  });

  it('defer moves a planned run later (a push brought fresh state) or cancels it', async () => {
    const state = task('state', [{ ok: true, nextMs: 5000 }]);
    const p = new Poller([state], { random: () => 0 });
    p.start();
    await vi.advanceTimersByTimeAsync(1000);
    p.defer('state', 60_000);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(state.calls).toEqual([0]);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(state.calls).toEqual([0, 61_000]);
    p.defer('state', null);
    await vi.advanceTimersByTimeAsync(600_000);
    expect(state.calls).toEqual([0, 61_000]);
  });

  it('start with names runs only those at once', async () => {
    const state = task('state', [{ ok: true, nextMs: null }]);
    const me = task('me', [{ ok: true, nextMs: null }]);
    const p = new Poller([state, me], { random: () => 0 });
    p.start(['state']);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(state.calls).toEqual([0]);
    expect(me.calls).toEqual([]);
  });
});
