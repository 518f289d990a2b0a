import { describe, expect, it } from 'vitest';
import { clockSample, effectiveNextSpinAt, formatMMSS, msUntilNextSecond, remainingSeconds, ServerClock } from './clock';

const T = Date.parse('2026-04-04T12:01:23.456Z');

describe('countdown with server offset', () => {
  it('measures the offset at the request midpoint', () => {
    // Client clock is 10 s behind; the request took 400 ms; the server stamped
    // serverNow in the middle of it.
    const sentAt = T - 10_000 - 200;
    const receivedAt = T - 10_000 + 200;
    const s = clockSample('2026-04-04T12:01:23.456Z', sentAt, receivedAt)!;
    expect(s.offsetMs).toBe(10_000);
    expect(s.rttMs).toBe(400);
  });

  it('counts down to nextSpinAt in server time, recomputed from the current time', () => {
    const clock = new ServerClock();
    const clientNow = T - 10_000; // client is 10 s behind
    clock.add(clockSample('2026-04-04T12:01:23.456Z', clientNow - 50, clientNow + 50));
    const next = Date.parse('2026-04-04T12:05:00.000Z');
    expect(formatMMSS(remainingSeconds(next, clock.now(clientNow)))).toBe('03:37');
    // One second later on the client's own clock.
    expect(formatMMSS(remainingSeconds(next, clock.now(clientNow + 1000)))).toBe('03:36');
    // Without the correction the countdown would be 10 s too long.
    expect(formatMMSS(remainingSeconds(next, clientNow))).toBe('03:47');
  });

  it('trusts the sample with the shortest round trip', () => {
    const clock = new ServerClock();
    clock.add({ offsetMs: 5000, rttMs: 900, at: T });
    clock.add({ offsetMs: 4200, rttMs: 40, at: T + 1000 });
    clock.add({ offsetMs: 4700, rttMs: 600, at: T + 2000 });
    expect(clock.offsetMs(T + 3000)).toBe(4200);
    // Old samples age out.
    clock.add({ offsetMs: 100, rttMs: 300, at: T + 20 * 60_000 });
    expect(clock.offsetMs(T + 20 * 60_000)).toBe(100);
  });

  it('ignores unreadable serverNow', () => {
    expect(clockSample('not a time', 1, 2)).toBeNull();
    const clock = new ServerClock();
    clock.add(null);
    expect(clock.offsetMs(T)).toBe(0);
  });

  it('formats MM:SS and never goes negative', () => {
    expect(formatMMSS(300)).toBe('05:00');
    expect(formatMMSS(59)).toBe('00:59');
    expect(formatMMSS(0)).toBe('00:00');
    expect(formatMMSS(-4)).toBe('00:00');
    expect(formatMMSS(3600)).toBe('60:00');
    expect(remainingSeconds(T + 1, T)).toBe(1); // rounds up: 00:01 until it is really over
    expect(remainingSeconds(T - 5000, T)).toBe(0);
  });

  it('rolls over to the next boundary instead of sticking at 00:00', () => {
    const next = Date.parse('2026-04-04T12:05:00.000Z');
    expect(effectiveNextSpinAt(next, 300, next - 1)).toBe(next);
    expect(effectiveNextSpinAt(next, 300, next)).toBe(next + 300_000);
    expect(effectiveNextSpinAt(next, 300, next + 301_000)).toBe(next + 600_000);
  });

  it('ticks just after the displayed second changes', () => {
    expect(msUntilNextSecond(T + 2300, T)).toBe(315);
    expect(msUntilNextSecond(T + 2000, T)).toBe(1015);
    expect(msUntilNextSecond(T - 1, T)).toBe(1000);
  });
});
