// When the panel asks the EBS. The roulette state is pushed (Extension
// PubSub); the panel fetches it only when a push is overdue — a phase
// boundary passed and no push told about it — and slowly (≈ 60 s) while no
// push has been seen. The viewer's own data is fetched when a pushed change
// can concern them, spread over a few seconds so that ten thousand panels do
// not ask at the same instant. Pure functions: the scheduler asks, these answer.

import type { RouletteState } from './types';

export const JITTER = 0.2;
/** The slow poll while pushes are not arriving. */
export const FALLBACK_POLL_MS = 60_000;
/** A check now and then while pushes arrive, in case the EBS stopped pushing during a quiet stretch. */
export const PUSH_SAFETY_MS = 5 * 60_000;
/** Past a boundary by more than this, the EBS is not behind by a tick: stop hurrying. */
export const BEHIND_LIMIT_MS = 15_000;

/** ±20 % around ms; rand() in [0, 1). */
export function jitter(ms: number, rand: () => number = Math.random): number {
  return Math.round(ms * (1 - JITTER + 2 * JITTER * rand()));
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

/**
 * The scheduled moment at which this state must change (and the EBS push
 * about it): the draw while collecting, the end of the spin while spinning,
 * the next round otherwise. None while idle: an empty pool changes only when
 * someone joins, which the EBS pushes.
 */
export function nextBoundary(s: RouletteState): number | null {
  const t = cycleTimes(s);
  if (!t) return null;
  switch (s.spinPhase) {
    case 'collecting':
      return t.drawAt;
    case 'spinning':
      return t.verifyAt;
    case 'verification':
    case 'completed':
      return t.end;
    default:
      return null;
  }
}

/**
 * How long after a boundary a missing push is given before the panel asks:
 * 3–8 s with 5-minute rounds (Extension PubSub takes a moment to deliver, and
 * spreading keeps a late push from turning into everyone's fetch at once),
 * 1–3 s with short development rounds.
 */
export function overdueGraceMs(intervalSeconds: number, rand: () => number = Math.random): number {
  const min = Math.min(3000, intervalSeconds * 50);
  const spread = Math.min(5000, intervalSeconds * 100);
  return Math.round(min + spread * rand());
}

/**
 * The delay before the next roulette fetch. pushLive: pushes are arriving
 * (the panel trusts them and asks only when one is overdue, or rarely as a
 * safety net); otherwise the slow poll, but still once just after each
 * boundary so that the wheel is seen spinning.
 */
export function stateDelayMs(s: RouletteState | null, serverNowMs: number, pushLive: boolean, rand: () => number = Math.random): number {
  const slow = jitter(pushLive ? PUSH_SAFETY_MS : FALLBACK_POLL_MS, rand);
  if (!s) return slow;
  const b = nextBoundary(s);
  if (b == null) return slow;
  const due = b + overdueGraceMs(s.spinIntervalSeconds, rand) - serverNowMs;
  if (due > 0) return Math.min(slow, due);
  // The boundary has passed and this state does not show it yet: the EBS is
  // a tick behind (ask again shortly) or something is stuck (stop hurrying).
  if (serverNowMs - b < BEHIND_LIMIT_MS) return Math.min(slow, 1000 + Math.round(1000 * rand()));
  return slow;
}

/** Spreads the viewers' own fetches after a change everyone sees: up to 10 % of the interval (30 s of 5 min). */
export function spreadMs(intervalSeconds: number, rand: () => number = Math.random): number {
  return Math.round(Math.max(1, intervalSeconds) * 100 * rand());
}

function same(a: string | null | undefined, b: string | null | undefined): boolean {
  return a != null && b != null && a.toLowerCase() === b.toLowerCase();
}

/** Whether the state names this character as the round's candidate or winner. */
export function isMe(name: string | null | undefined, myCharacter: string | null | undefined): boolean {
  return same(name, myCharacter);
}

export interface PersonalFetch {
  /** Delay before GET /api/pool/me, when it should run. */
  me?: number;
  /** Delay before GET /api/payouts/my-last, when it should run. */
  payout?: number;
}

/**
 * Which of the viewer's own calls a state change calls for: a new round →
 * pool/me once (spread), in case they joined or left by chat; an outcome about
 * their character → both at once (they won: the payout exists; or they were
 * offline). Nothing for the other changes: the pool count, the spin.
 */
export function personalAfter(
  prev: RouletteState | null,
  next: RouletteState,
  myCharacter: string | null,
  rand: () => number = Math.random,
): PersonalFetch {
  if (!prev) return {};
  const out: PersonalFetch = {};
  const prevKey = prev.lastCycle ? `${prev.lastCycle.spinCycleId}|${prev.lastCycle.outcome}` : '';
  const nextKey = next.lastCycle ? `${next.lastCycle.spinCycleId}|${next.lastCycle.outcome}` : '';
  const lc = next.lastCycle;
  if (nextKey !== prevKey && lc && (same(lc.candidateCharacterName, myCharacter) || same(lc.winnerCharacterName, myCharacter))) {
    out.payout = Math.round(200 + 800 * rand());
    out.me = Math.round(300 + 1200 * rand());
  }
  const newRound = next.nextSpinAt !== prev.nextSpinAt || (next.currentSpinCycleId ?? '') !== (prev.currentSpinCycleId ?? '');
  if (newRound && out.me == null) out.me = spreadMs(next.spinIntervalSeconds, rand);
  return out;
}

/** The viewer's payout: followed while it is active (the Desktop moves it; nothing is pushed), else only when asked. */
export function payoutDelayMs(status: string | null, rand: () => number = Math.random): number | null {
  return status === 'Pending' || status === 'InProgress' ? jitter(10_000, rand) : null;
}

/** The viewer's gift request: followed while it is in the queue, else only when asked. */
export function giftDelayMs(active: boolean, rand: () => number = Math.random): number | null {
  return active ? jitter(10_000, rand) : null;
}

export const VERSION_CHECK_MS = 60 * 60_000;
