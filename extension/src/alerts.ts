// The pinned alert at the top of the panel: what concerns this viewer most,
// right now. Pure: the panel shows it and announces it once per key.

import { isMe } from './cadence';
import type { Strings } from './i18n';
import type { Payout, PoolMe, RouletteState } from './types';

export type AlertKind = 'channel' | 'won' | 'drawn' | 'missed';

export interface PersonalAlert {
  kind: AlertKind;
  /** Changes when there is something new to announce (screen readers hear each key once). */
  key: string;
  title: string;
  body: string;
}

export interface AlertInput {
  /** The EBS refused this channel (wrong_channel). */
  channelRefused: boolean;
  state: RouletteState | null;
  me: PoolMe | null;
  payout: Payout | null;
  /** The wheel has come to rest on this round's candidate. */
  landed: boolean;
}

/**
 * The alert for this viewer, most important first: an unserved channel; a win
 * to collect; being drawn this round (once the wheel has landed on them, so the
 * alert does not spoil the spin); having been drawn while offline.
 */
export function personalAlert(i: AlertInput, t: Strings): PersonalAlert | null {
  if (i.channelRefused) return { kind: 'channel', key: 'channel', title: t.channelTitle, body: t.channelBody };
  const p = i.payout;
  if (p && (p.status === 'Pending' || p.status === 'InProgress')) {
    return { kind: 'won', key: `won|${p.id}`, title: t.wonTitle, body: t.wonBody };
  }
  const s = i.state;
  const mine = i.me?.isEnrolled ? i.me.characterName : null;
  if (!s || !mine) return null;
  const lc = s.lastCycle;
  const decidedNow = lc != null && s.currentSpinCycleId != null && lc.spinCycleId === s.currentSpinCycleId;
  if (!decidedNow && isMe(s.candidateCharacterName, mine)) {
    if (s.spinPhase === 'verification' || (s.spinPhase === 'spinning' && i.landed)) {
      return { kind: 'drawn', key: `drawn|${s.currentSpinCycleId}`, title: t.drawnTitle, body: t.drawnBody(mine) };
    }
  }
  if (decidedNow && lc.outcome === 'no_winner' && isMe(lc.candidateCharacterName, mine)) {
    return { kind: 'missed', key: `missed|${lc.spinCycleId}`, title: t.missedTitle(mine), body: t.missedBody };
  }
  return null;
}
