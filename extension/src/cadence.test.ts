import { describe, expect, it } from 'vitest';
import {
  BEHIND_LIMIT_MS,
  cycleTimes,
  FALLBACK_POLL_MS,
  giftDelayMs,
  isMe,
  jitter,
  nextBoundary,
  overdueGraceMs,
  payoutDelayMs,
  personalAfter,
  PUSH_SAFETY_MS,
  spreadMs,
  stateDelayMs,
} from './cadence';
import type { LastCycle, RouletteState } from './types';

const END = Date.parse('2026-04-04T12:05:00.000Z');
const state = (p: Partial<RouletteState>): RouletteState => ({
  nextSpinAt: '2026-04-04T12:05:00.000Z',
  serverNow: '2026-04-04T12:01:00.000Z',
  spinIntervalSeconds: 300,
  poolParticipantCount: 3,
  spinPhase: 'collecting',
  currentSpinCycleId: 'c1',
  candidateCharacterName: null,
  lastCycle: null,
  ...p,
});
const mid = () => 0.5;

describe('jitter and cycle moments', () => {
  it('jitters by at most ±20 %', () => {
    expect(jitter(5000, () => 0)).toBe(4000);
    expect(jitter(5000, mid)).toBe(5000);
    expect(jitter(5000, () => 0.9999)).toBeLessThanOrEqual(6000);
    for (let i = 0; i < 200; i++) {
      const j = jitter(60_000);
      expect(j).toBeGreaterThanOrEqual(48_000);
      expect(j).toBeLessThanOrEqual(72_000);
    }
  });

  it('knows the cycle moments (80/90/100/110 %)', () => {
    const t = cycleTimes(state({}))!;
    expect(t.end - t.drawAt).toBe(60_000);
    expect(t.end - t.verifyAt).toBe(30_000);
    expect(t.graceEnd - t.end).toBe(30_000);
    expect(cycleTimes(state({ nextSpinAt: 'garbage' }))).toBeNull();
  });

  it.each([
    ['collecting', END - 60_000],
    ['spinning', END - 30_000],
    ['verification', END],
    ['completed', END],
    ['idle', null],
  ])('the boundary a %s state waits for', (spinPhase, want) => {
    expect(nextBoundary(state({ spinPhase }))).toBe(want);
  });
});

describe('roulette fetches', () => {
  it('while pushes arrive: nothing until a boundary has passed without its push', () => {
    // 12:01:00, collecting: the draw at 12:04:00 is the next moment a push is due.
    const grace = overdueGraceMs(300, mid);
    expect(grace).toBe(5500);
    expect(stateDelayMs(state({}), END - 240_000, true, mid)).toBe(180_000 + grace);
    // Spinning: the push for verification is due at 12:04:30.
    expect(stateDelayMs(state({ spinPhase: 'spinning' }), END - 50_000, true, mid)).toBe(20_000 + grace);
    // Idle: only the rare safety check.
    expect(stateDelayMs(state({ spinPhase: 'idle' }), END - 50_000, true, mid)).toBe(PUSH_SAFETY_MS);
  });

  it('without pushes: the slow poll (≈ 60 s), but still just after each boundary', () => {
    expect(stateDelayMs(state({}), END - 240_000, false, mid)).toBe(FALLBACK_POLL_MS);
    expect(stateDelayMs(state({}), END - 61_000, false, mid)).toBe(1000 + 5500);
    expect(stateDelayMs(state({ spinPhase: 'idle' }), END - 61_000, false, mid)).toBe(FALLBACK_POLL_MS);
  });

  it('spreads the overdue fetch over 3–8 s (less for short dev cycles)', () => {
    expect(overdueGraceMs(300, () => 0)).toBe(3000);
    expect(overdueGraceMs(300, () => 0.9999)).toBeLessThanOrEqual(8000);
    expect(overdueGraceMs(20, () => 0)).toBe(1000);
    expect(overdueGraceMs(20, () => 0.9999)).toBeLessThanOrEqual(3000);
  });

  it('asks again shortly when the EBS is a tick behind, but not forever', () => {
    // Still collecting after the draw was due and its grace passed.
    expect(stateDelayMs(state({}), END - 60_000 + 9000, true, mid)).toBe(1500);
    // Long past: back to the slow cadence.
    expect(stateDelayMs(state({}), END - 60_000 + BEHIND_LIMIT_MS + 1, true, mid)).toBe(PUSH_SAFETY_MS);
  });

  it('stays within its bounds for every phase and moment', () => {
    for (const spinPhase of ['idle', 'collecting', 'spinning', 'verification', 'completed']) {
      for (const at of [END - 299_000, END - 61_000, END - 59_000, END - 1000, END + 5000]) {
        for (const r of [0, 0.5, 0.9999]) {
          for (const live of [true, false]) {
            const d = stateDelayMs(state({ spinPhase }), at, live, () => r);
            expect(d).toBeGreaterThan(0);
            expect(d).toBeLessThanOrEqual((live ? PUSH_SAFETY_MS : FALLBACK_POLL_MS) * 1.2);
          }
        }
      }
    }
  });
});

describe("the viewer's own calls", () => {
  const decided = (p: Partial<LastCycle>): LastCycle => ({
    spinCycleId: 'c1',
    outcome: 'winner',
    winnerCharacterName: 'Norinn',
    candidateCharacterName: 'Norinn',
    decidedAt: '2026-04-04T12:04:40.000Z',
    ...p,
  });

  it('nothing for the first state, the pool count or the spin', () => {
    expect(personalAfter(null, state({}), 'Norinn', mid)).toEqual({});
    expect(personalAfter(state({}), state({ poolParticipantCount: 9 }), 'Norinn', mid)).toEqual({});
    expect(personalAfter(state({}), state({ spinPhase: 'spinning', candidateCharacterName: 'Norinn' }), 'Norinn', mid)).toEqual({});
  });

  it('pool/me once per new round, spread over 10 % of the interval', () => {
    const next = state({ nextSpinAt: '2026-04-04T12:10:00.000Z', currentSpinCycleId: 'c2' });
    expect(personalAfter(state({ spinPhase: 'verification' }), next, null, mid)).toEqual({ me: 15_000 });
    expect(spreadMs(300, () => 0.9999)).toBeLessThanOrEqual(30_000);
    expect(spreadMs(20, () => 0.9999)).toBeLessThanOrEqual(2000);
  });

  it('both at once when the outcome is about their character (any case)', () => {
    const p = personalAfter(state({ spinPhase: 'verification' }), state({ spinPhase: 'completed', lastCycle: decided({}) }), 'norinn', () => 0);
    expect(p).toEqual({ payout: 200, me: 300 });
    const offline = decided({ outcome: 'no_winner', winnerCharacterName: null });
    expect(personalAfter(state({ spinPhase: 'verification' }), state({ spinPhase: 'completed', lastCycle: offline }), 'Norinn', () => 0).payout).toBe(200);
  });

  it('nothing when the outcome is about someone else', () => {
    expect(personalAfter(state({ spinPhase: 'verification' }), state({ spinPhase: 'completed', lastCycle: decided({}) }), 'Kaelthas', mid)).toEqual({});
    expect(personalAfter(state({ spinPhase: 'verification' }), state({ spinPhase: 'completed', lastCycle: decided({}) }), null, mid)).toEqual({});
  });

  it('compares character names case-insensitively', () => {
    expect(isMe('МИМИРА', 'мимира')).toBe(true);
    expect(isMe('Norinn', null)).toBe(false);
  });

  it('follows a payout or gift only while it is in flight', () => {
    expect(payoutDelayMs('Pending', mid)).toBe(10_000);
    expect(payoutDelayMs('InProgress', mid)).toBe(10_000);
    expect(payoutDelayMs('Sent', mid)).toBeNull();
    expect(payoutDelayMs(null, mid)).toBeNull();
    expect(giftDelayMs(true, mid)).toBe(10_000);
    expect(giftDelayMs(false, mid)).toBeNull();
  });

  it('a steady viewer asks at most 3 times per 5-minute round', () => {
    // Pushes arrive: no roulette fetch before the next boundary; one pool/me per new round.
    let requests = 0;
    const phases: Partial<RouletteState>[] = [
      { spinPhase: 'collecting' },
      { spinPhase: 'spinning', candidateCharacterName: 'Kaelthas' },
      { spinPhase: 'verification', candidateCharacterName: 'Kaelthas' },
      { spinPhase: 'completed', lastCycle: decided({ winnerCharacterName: 'Kaelthas', candidateCharacterName: 'Kaelthas' }) },
      { spinPhase: 'collecting', nextSpinAt: '2026-04-04T12:10:00.000Z', currentSpinCycleId: 'c2' },
    ];
    let prev: RouletteState | null = null;
    for (const p of phases) {
      const next = state(p);
      const f = personalAfter(prev, next, 'Norinn', mid);
      requests += (f.me != null ? 1 : 0) + (f.payout != null ? 1 : 0);
      prev = next;
    }
    expect(requests).toBeLessThanOrEqual(3);
  });
});
