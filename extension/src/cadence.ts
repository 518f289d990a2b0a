// Phase-aware polling cadence for GET /api/roulette/state and the viewer's
// own calls. Pure functions: the scheduler asks, these answer.

import type { RouletteState } from './types';

/** How close to the draw collecting counts as "around the spin". */
export const NEAR_SPIN_MS = 20_000;
export const JITTER = 0.2;
/** How long after a due phase change the panel keeps looking for it quickly. */
export const BEHIND_MS = 5000;

/** ±20 % around ms; rand() in [0, 1). */
export function jitter(ms: number, rand: () => number = Math.random): number {
  return Math.round(ms * (1 - JITTER + 2 * JITTER * rand()));
}

/** ~2 s around the spin; shorter for the short development cycles. */
export function fastMs(intervalSeconds: number): number {
  return Math.min(2000, Math.max(1000, intervalSeconds * 100));
}

/** ~5 s otherwise; shorter for the short development cycles. */
export function slowMs(intervalSeconds: number): number {
  return Math.min(5000, Math.max(2500, intervalSeconds * 250));
}

export interface CycleTimes {
  start: number;
  /** The draw: collecting ends, spinning starts (80 % of the interval). */
  drawAt: number;
  /** Spinning ends, verification starts (90 %). */
  verifyAt: number;
  /** = nextSpinAt. */
  end: number;
  /** The previous cycle's late /who report is accepted until here (110 %). */
  graceEnd: number;
}

/** The moments of the cycle that ends at nextSpinAt, in server ms. */
export function cycleTimes(s: Pick<RouletteState, 'nextSpinAt' | 'spinIntervalSeconds'>): CycleTimes | null {
  const end = Date.parse(s.nextSpinAt);
  const interval = s.spinIntervalSeconds * 1000;
  if (Number.isNaN(end) || !(interval > 0)) return null;
  const start = end - interval;
  return {
    start,
    drawAt: start + 0.8 * interval,
    verifyAt: start + 0.9 * interval,
    end,
    graceEnd: end + 0.1 * interval,
  };
}

/** Whether the cycle is near or in its spin: the last 20 s of collecting, spinning, verification. */
export function isAroundSpin(s: RouletteState, serverNowMs: number): boolean {
  if (s.spinPhase === 'spinning' || s.spinPhase === 'verification') return true;
  if (s.spinPhase !== 'collecting') return false;
  const t = cycleTimes(s);
  return t != null && t.drawAt - serverNowMs <= NEAR_SPIN_MS;
}

/**
 * The delay before the next roulette poll: fast around the spin, slow
 * otherwise, ±20 % jitter; and if a phase boundary (draw, verification, cycle
 * end, end of the late-report grace) comes sooner, just after it, so the panel
 * sees the drawn candidate and the outcome promptly.
 */
export function stateDelayMs(s: RouletteState, serverNowMs: number, rand: () => number = Math.random): number {
  const base = isAroundSpin(s, serverNowMs) ? fastMs(s.spinIntervalSeconds) : slowMs(s.spinIntervalSeconds);
  const delay = jitter(base, rand);
  const t = cycleTimes(s);
  if (!t || s.spinPhase === 'idle') return delay;
  // The server is a tick behind its own schedule (the draw or the end of the
  // spin is due): look again very soon, for at most a few seconds.
  const behind =
    (s.spinPhase === 'collecting' && serverNowMs >= t.drawAt && serverNowMs - t.drawAt < BEHIND_MS) ||
    (s.spinPhase === 'spinning' && serverNowMs >= t.verifyAt && serverNowMs - t.verifyAt < BEHIND_MS);
  if (behind) return Math.min(delay, Math.round(300 + 300 * rand()));
  for (const b of [t.drawAt, t.verifyAt, t.end, t.graceEnd]) {
    const until = b - serverNowMs;
    if (until > 50) {
      // Just after the boundary: 200–600 ms, spread so that viewers do not arrive together.
      const aligned = Math.round(until + 200 + 400 * rand());
      return Math.min(delay, aligned);
    }
  }
  return delay;
}

/** The viewer's payout: often while it is active, rarely otherwise. */
export function payoutDelayMs(status: string | null, rand: () => number = Math.random): number {
  const active = status === 'Pending' || status === 'InProgress';
  return jitter(active ? 5000 : 15_000, rand);
}

/** The viewer's gift request: often while it is in the queue, rarely otherwise. */
export function giftDelayMs(active: boolean, rand: () => number = Math.random): number {
  return jitter(active ? 5000 : 15_000, rand);
}

/** Pool membership: the roulette answer pokes it when the pool changes. */
export function poolMeDelayMs(rand: () => number = Math.random): number {
  return jitter(10_000, rand);
}

export const VERSION_CHECK_MS = 60 * 60_000;
