// Pushed roulette state (Extension PubSub, target "broadcast") and the rule
// that decides whether an answer — pushed or fetched — replaces what the panel
// shows. Messages can arrive late or out of order, and a fetch can be
// overtaken by a push, so the panel never steps back to an older round.

import type { RouletteState } from './types';

/** One pushed state: {"v":1,"kind":"state","seq":N,"state":{…GET /api/roulette/state…}}. */
export interface StatePush {
  seq: number;
  state: RouletteState;
}

/** Reads a PubSub message; null for anything that is not a state push the panel understands. */
export function parsePush(message: unknown): StatePush | null {
  let m: unknown = message;
  if (typeof m === 'string') {
    try {
      m = JSON.parse(m);
    } catch {
      return null;
    }
  }
  if (typeof m !== 'object' || m === null) return null;
  const o = m as Record<string, unknown>;
  if (o.v !== 1 || o.kind !== 'state' || !Number.isSafeInteger(o.seq) || (o.seq as number) < 0) return null;
  const s = o.state as RouletteState | null;
  if (typeof s !== 'object' || s === null || typeof s.nextSpinAt !== 'string' || Number.isNaN(Date.parse(s.nextSpinAt))) return null;
  if (typeof s.spinPhase !== 'string') return null;
  return { seq: o.seq as number, state: s };
}

const PHASE_RANK: Record<string, number> = { idle: 0, collecting: 0, spinning: 1, verification: 2, completed: 3 };

/**
 * How far a state has come: its round (nextSpinAt), then its phase within the
 * round. A state never legitimately goes back in rank within one EBS.
 */
export function stateRank(s: RouletteState): [number, number] {
  const at = Date.parse(s.nextSpinAt);
  return [Number.isNaN(at) ? 0 : at, PHASE_RANK[s.spinPhase] ?? 0];
}

/** <0, 0, >0 as a's rank is below, equal to or above b's. */
export function compareRank(a: RouletteState, b: RouletteState): number {
  const [ra, pa] = stateRank(a);
  const [rb, pb] = stateRank(b);
  return ra !== rb ? ra - rb : pa - pb;
}

/** What the panel currently shows and where it came from. */
export interface Shown {
  state: RouletteState | null;
  /** Client time (ms) the shown state arrived. */
  receivedAt: number;
  /** The seq of the last push applied; null before the first push. */
  seq: number | null;
}

/**
 * Whether a push replaces the shown state: a newer seq that does not step
 * back, or any state of a later phase or round (the EBS restarted and counts
 * its seq from the start again; a later round cannot be stale).
 */
export function acceptPush(shown: Shown, p: StatePush): boolean {
  if (!shown.state) return true;
  const c = compareRank(p.state, shown.state);
  if (c > 0) return true;
  if (c < 0) return false;
  return shown.seq == null || p.seq > shown.seq;
}

/** A request sent this long after the shown state arrived is trusted even if it looks older. */
export const TRUST_FETCH_AFTER_MS = 5000;

/**
 * Whether a fetched state replaces the shown one: when it is not older. A
 * push may overtake a fetch, and replicas can answer a tick apart, so an
 * older-looking answer is only believed when the request was sent well after
 * the shown state arrived (an EBS restarted with another cycle length).
 */
export function acceptFetched(shown: Shown, s: RouletteState, sentAt: number): boolean {
  if (!shown.state) return true;
  if (compareRank(s, shown.state) >= 0) return true;
  return sentAt - shown.receivedAt >= TRUST_FETCH_AFTER_MS;
}

/** The public facts of a state whose change matters to the viewer's own data. */
export function outcomeKey(s: RouletteState | null): string {
  const lc = s?.lastCycle;
  return lc ? `${lc.spinCycleId}|${lc.outcome}` : '';
}
