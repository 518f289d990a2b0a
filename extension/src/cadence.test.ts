import { describe, expect, it } from 'vitest';
import { cycleTimes, fastMs, giftDelayMs, isAroundSpin, jitter, payoutDelayMs, slowMs, stateDelayMs } from './cadence';
import type { RouletteState } from './types';

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

describe('polling cadence', () => {
  it('jitters by at most ±20 %', () => {
    expect(jitter(5000, () => 0)).toBe(4000);
    expect(jitter(5000, () => 0.5)).toBe(5000);
    expect(jitter(5000, () => 0.9999)).toBeLessThanOrEqual(6000);
    for (let i = 0; i < 200; i++) {
      const j = jitter(2000);
      expect(j).toBeGreaterThanOrEqual(1600);
      expect(j).toBeLessThanOrEqual(2400);
    }
  });

  it('knows the cycle moments (80/90/100/110 %)', () => {
    const t = cycleTimes(state({}))!;
    expect(t.end - t.drawAt).toBe(60_000);
    expect(t.end - t.verifyAt).toBe(30_000);
    expect(t.graceEnd - t.end).toBe(30_000);
    expect(cycleTimes(state({ nextSpinAt: 'garbage' }))).toBeNull();
  });

  it('polls every ~5 s early in collecting and every ~2 s around the spin', () => {
    const mid = () => 0.5;
    // 12:01:00: the draw is at 12:04:00, three minutes away.
    expect(isAroundSpin(state({}), END - 240_000)).toBe(false);
    expect(stateDelayMs(state({}), END - 240_000, mid)).toBe(5000);
    // 15 s before the draw.
    expect(isAroundSpin(state({}), END - 75_000)).toBe(true);
    expect(stateDelayMs(state({}), END - 75_000, mid)).toBe(2000);
    expect(stateDelayMs(state({ spinPhase: 'spinning', candidateCharacterName: 'Norinn' }), END - 50_000, mid)).toBe(2000);
    expect(stateDelayMs(state({ spinPhase: 'verification' }), END - 20_000, mid)).toBe(2000);
    expect(isAroundSpin(state({ spinPhase: 'completed' }), END - 20_000)).toBe(false);
    expect(isAroundSpin(state({ spinPhase: 'idle', poolParticipantCount: 0 }), END - 62_000)).toBe(false);
  });

  it('stays within the jitter bounds for every phase', () => {
    for (const spinPhase of ['idle', 'collecting', 'spinning', 'verification', 'completed']) {
      for (const r of [0, 0.25, 0.5, 0.75, 0.9999]) {
        const d = stateDelayMs(state({ spinPhase }), END - 200_000, () => r);
        expect(d).toBeGreaterThanOrEqual(200);
        expect(d).toBeLessThanOrEqual(6000);
      }
    }
  });

  it('polls just after a phase boundary that comes sooner than the cadence', () => {
    // 1 s before the draw: next poll 200–600 ms after it, not 2 s later.
    const d = stateDelayMs(state({}), END - 61_000, () => 0.5);
    expect(d).toBe(1000 + 200 + 200);
    // 1.5 s before the end of verification.
    const v = stateDelayMs(state({ spinPhase: 'verification' }), END - 1500, () => 0.5);
    expect(v).toBe(1500 + 200 + 200);
  });

  it('looks again quickly when the server has not caught up with the schedule yet', () => {
    // Collecting although the draw was due 100 ms ago: poll in 300–600 ms.
    expect(stateDelayMs(state({}), END - 59_900, () => 0.5)).toBe(450);
    expect(stateDelayMs(state({ spinPhase: 'spinning', candidateCharacterName: 'N' }), END - 29_000, () => 0)).toBe(300);
    // Not forever: 10 s late, back to the normal cadence.
    expect(stateDelayMs(state({}), END - 50_000, () => 0.5)).toBe(2000);
  });

  it('scales down for short development cycles', () => {
    expect(fastMs(300)).toBe(2000);
    expect(slowMs(300)).toBe(5000);
    expect(fastMs(10)).toBe(1000);
    expect(slowMs(10)).toBe(2500);
    expect(fastMs(20)).toBe(2000);
  });

  it('keeps personal calls slow unless something is in flight', () => {
    const mid = () => 0.5;
    expect(payoutDelayMs('Pending', mid)).toBe(5000);
    expect(payoutDelayMs('InProgress', mid)).toBe(5000);
    expect(payoutDelayMs('Sent', mid)).toBe(15_000);
    expect(payoutDelayMs(null, mid)).toBe(15_000);
    expect(giftDelayMs(true, mid)).toBe(5000);
    expect(giftDelayMs(false, mid)).toBe(15_000);
  });

  it('stays under the viewer read limit (120 / minute) even at the fast cadence', () => {
    // Worst case: state at the fastest jittered cadence, the others at theirs.
    const perMinute = 60_000 / jitter(fastMs(10), () => 0) + 60_000 / 4000 + 60_000 / 4000 + 60_000 / 8000;
    expect(perMinute).toBeLessThan(120);
  });
});
