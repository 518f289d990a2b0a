// The server clock as the panel sees it: serverNow sampled at the midpoint of
// the request that returned it, so latency does not skew the countdown.

export interface ClockSample {
  /** serverNow − client midpoint, ms. */
  offsetMs: number;
  /** Round trip of the request, ms. */
  rttMs: number;
  /** Client time the sample was taken. */
  at: number;
}

/** A sample from one answer; null when serverNow is unreadable. */
export function clockSample(serverNowIso: string, sentAt: number, receivedAt: number): ClockSample | null {
  const server = Date.parse(serverNowIso);
  if (Number.isNaN(server) || receivedAt < sentAt) return null;
  const mid = (sentAt + receivedAt) / 2;
  return { offsetMs: server - mid, rttMs: receivedAt - sentAt, at: receivedAt };
}

const KEEP = 8;
const MAX_AGE_MS = 10 * 60_000;

/**
 * Keeps the last few samples and trusts the one with the shortest round trip
 * (the tightest bound on the true offset), like NTP's clock filter.
 */
export class ServerClock {
  private samples: ClockSample[] = [];

  add(s: ClockSample | null): void {
    if (!s) return;
    this.samples.push(s);
    if (this.samples.length > KEEP) this.samples.shift();
  }

  /** The offset to add to Date.now() to get server time (0 before any sample). */
  offsetMs(clientNow: number = Date.now()): number {
    const fresh = this.samples.filter((s) => clientNow - s.at <= MAX_AGE_MS && s.at <= clientNow + 1000);
    const pool = fresh.length > 0 ? fresh : this.samples.slice(-1);
    if (pool.length === 0) return 0;
    let best = pool[0];
    for (const s of pool) if (s.rttMs < best.rttMs) best = s;
    return best.offsetMs;
  }

  /** The server's current time in ms. */
  now(clientNow: number = Date.now()): number {
    return clientNow + this.offsetMs(clientNow);
  }
}

/**
 * The boundary the countdown counts to: nextSpinAt, rolled forward by whole
 * intervals once it has passed (the schedule is fixed), so the countdown never
 * sticks at 00:00 while waiting for the next answer.
 */
export function effectiveNextSpinAt(nextSpinAtMs: number, intervalSeconds: number, serverNowMs: number): number {
  const interval = intervalSeconds * 1000;
  if (!(interval > 0) || serverNowMs < nextSpinAtMs) return nextSpinAtMs;
  const passed = Math.floor((serverNowMs - nextSpinAtMs) / interval) + 1;
  return nextSpinAtMs + passed * interval;
}

/** Whole seconds left, rounded up, never negative. */
export function remainingSeconds(targetMs: number, serverNowMs: number): number {
  return Math.max(0, Math.ceil((targetMs - serverNowMs) / 1000));
}

/** MM:SS (minutes keep counting past 59: 75:00). */
export function formatMMSS(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const mm = Math.floor(s / 60);
  const ss = s % 60;
  return String(mm).padStart(2, '0') + ':' + String(ss).padStart(2, '0');
}

/** Milliseconds until the displayed second changes (so ticks land just after it). */
export function msUntilNextSecond(targetMs: number, serverNowMs: number): number {
  const left = targetMs - serverNowMs;
  if (left <= 0) return 1000;
  const frac = left % 1000;
  return (frac === 0 ? 1000 : frac) + 15;
}
