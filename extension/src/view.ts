// What each section shows, as pure functions of the EBS answers. The DOM code
// only copies these into elements.

import { cycleTimes } from './cadence';
import { formatMMSS } from './clock';
import { gold as goldText, type Lang, rewardLine, type Strings, strings } from './i18n';
import type { GiftRequest, LastCycle, Payout, PoolMe, RouletteState } from './types';

export { rewardLine };

const EN = strings('en');

// ---------------------------------------------------------------- roulette

/** empty: nobody to draw; pool: names, nothing drawn yet; spin: animate onto name;
 *  landed: stopped on this round's name; rest: still showing the last round's name. */
export type WheelMode = 'empty' | 'pool' | 'spin' | 'landed' | 'rest';

export interface OutcomeView {
  kind: 'winner' | 'no_winner' | 'no_participants';
  text: string;
}

export interface RouletteView {
  phase: string;
  wheel: WheelMode;
  /** The name the wheel lands on (spin) or shows as landed. */
  name: string | null;
  /** The cycle the landing belongs to (restarts the animation when it changes). */
  cycleId: string | null;
  phaseLine: string;
  /** This round's outcome, or the last round's (prefixed) while a new one collects. */
  outcome: OutcomeView | null;
  countdownLabel: string;
  /** A hint under the countdown saying when the wheel spins. */
  countdownHint: string | null;
}

export function outcomeText(c: LastCycle, t: Strings = EN): OutcomeView {
  const name = c.winnerCharacterName ?? c.candidateCharacterName ?? '';
  if (c.outcome === 'winner') return { kind: 'winner', text: t.outcomeWon(name) };
  if (c.outcome === 'no_winner') {
    return { kind: 'no_winner', text: name ? t.outcomeOffline(name) : t.outcomeNoWinner };
  }
  return { kind: 'no_participants', text: t.outcomeNobody };
}

/**
 * Maps the roulette state to the roulette section. landed: the wheel has
 * stopped on this round's candidate (the spin animation is shorter than the
 * spinning phase), so the text says so instead of "spinning".
 */
export function rouletteView(s: RouletteState, t: Strings = EN, landed = false): RouletteView {
  const pool = s.poolParticipantCount;
  const last = s.lastCycle;
  const lastIsThisCycle = last != null && s.currentSpinCycleId != null && last.spinCycleId === s.currentSpinCycleId;
  const times = cycleTimes(s);
  const spinsAt = times ? formatMMSS(Math.round((times.end - times.drawAt) / 1000)) : null;
  const v: RouletteView = {
    phase: s.spinPhase,
    wheel: 'pool',
    name: null,
    cycleId: s.currentSpinCycleId,
    phaseLine: '',
    outcome: null,
    countdownLabel: t.nextRoundIn,
    countdownHint: null,
  };
  const previous = (): OutcomeView | null => {
    if (!last || lastIsThisCycle) return null;
    const o = outcomeText(last, t);
    return { kind: o.kind, text: t.lastRound(o.text) };
  };

  switch (s.spinPhase) {
    case 'idle':
      v.wheel = 'empty';
      v.phaseLine = t.poolEmpty;
      v.outcome = previous();
      v.countdownHint = spinsAt ? t.spinsOnceJoined(spinsAt) : null;
      break;
    case 'collecting':
      // Until the next spin the wheel keeps showing where the last one stopped.
      v.wheel = last?.candidateCharacterName && !lastIsThisCycle ? 'rest' : 'pool';
      v.name = v.wheel === 'rest' ? last!.candidateCharacterName : null;
      v.phaseLine = t.collecting(pool);
      v.outcome = previous();
      v.countdownHint = spinsAt ? t.spinsAt(spinsAt) : null;
      break;
    case 'spinning':
      if (s.candidateCharacterName) {
        v.wheel = 'spin';
        v.name = s.candidateCharacterName;
        v.phaseLine = landed ? t.landedOn(s.candidateCharacterName) : t.spinning;
      } else {
        v.phaseLine = t.drawing;
      }
      break;
    case 'verification': {
      const name = s.candidateCharacterName ?? (lastIsThisCycle ? last.candidateCharacterName : null);
      v.wheel = name ? 'landed' : 'pool';
      v.name = name;
      v.phaseLine = name ? t.checking(name) : t.checkingWinner;
      if (lastIsThisCycle) v.outcome = outcomeText(last, t);
      break;
    }
    case 'completed':
      if (lastIsThisCycle) {
        const o = outcomeText(last, t);
        v.wheel = last.candidateCharacterName ? 'landed' : 'pool';
        v.name = last.candidateCharacterName;
        v.phaseLine = o.kind === 'winner' ? t.weHaveWinner : t.roundOver;
        v.outcome = o;
      } else {
        v.phaseLine = t.roundOverNobody;
      }
      break;
    case 'paused': {
      // No draw this round: the wheel shows the pool, the countdown only
      // when this round ends, and the hint what starts the wheel again.
      const why = pausedText(s.pausedReason, t);
      v.wheel = pool > 0 ? 'pool' : 'empty';
      v.phaseLine = why.line;
      v.outcome = previous();
      v.countdownLabel = t.pausedCountdown;
      v.countdownHint = why.hint;
      break;
    }
    default:
      v.phaseLine = pool > 0 ? t.waitingNext : t.poolEmpty;
      v.wheel = pool > 0 ? 'pool' : 'empty';
  }
  return v;
}

function pausedText(reason: string | null | undefined, t: Strings): { line: string; hint: string | null } {
  switch (reason) {
    case 'streamer':
      return { line: t.pausedStreamer, hint: t.pausedHintStreamer };
    case 'budget':
      return { line: t.pausedBudget, hint: t.pausedHintBudget };
    case 'offline':
      return { line: t.pausedOffline, hint: t.pausedHintOffline };
    default:
      return { line: t.pausedOther, hint: null };
  }
}

// ---------------------------------------------------------------- payout

export type PayoutView =
  | { kind: 'none' }
  | {
      kind: 'won';
      name: string;
      status: string;
      accepted: boolean;
      statusLine: string;
      gold: string;
    }
  | { kind: 'sent'; name: string; rewardLine: string; gold: string; again: string | null }
  | { kind: 'last'; name: string; status: string; line: string; again: string | null };

/**
 * Maps the viewer's last payout to the payout section. canJoinAgain: whether
 * "you can join again" is true now (not in the pool, no active payout, room
 * under the lifetime cap); null when unknown, and then it is not said.
 */
export function payoutView(p: Payout | null | undefined, t: Strings = EN, lang: Lang = 'en', canJoinAgain: boolean | null = null): PayoutView {
  if (!p) return { kind: 'none' };
  const accepted = p.acceptedAt != null && p.acceptedAt !== '';
  const again = canJoinAgain === true ? t.joinAgain : null;
  switch (p.status) {
    case 'Pending':
    case 'InProgress':
      return {
        kind: 'won',
        name: p.characterName,
        status: p.status,
        accepted,
        gold: goldText(p.goldAmount, lang),
        statusLine: p.status === 'InProgress' ? t.statusInProgress : accepted ? t.statusAccepted : t.statusWaiting,
      };
    case 'Sent':
      return { kind: 'sent', name: p.characterName, rewardLine: rewardLine(p.characterName), gold: goldText(p.goldAmount, lang), again };
    default: {
      const why: Record<string, string> = { Failed: t.whyFailed, Cancelled: t.whyCancelled, Expired: t.whyExpired };
      const reason = why[p.status] ?? p.status;
      return { kind: 'last', name: p.characterName, status: p.status, line: t.lastLine(p.characterName, reason), again };
    }
  }
}

// ---------------------------------------------------------------- gift

export type GiftView =
  | { kind: 'none' }
  | { kind: 'active' | 'done' | 'failed'; state: string; line: string; whisper?: boolean };

/** "about 3 min" style wait. */
export function waitText(seconds: number, t: Strings = EN): string {
  if (seconds <= 0) return t.giftNext;
  if (seconds < 60) return t.giftUnderMinute;
  return t.giftAboutMin(Math.round(seconds / 60));
}

function giftFailure(reason: string | null, t: Strings): string {
  switch (reason) {
    case 'receiver_declined':
      return t.giftWhyDeclined;
    case 'selection_timeout':
      return t.giftWhySelection;
    case 'confirmation_timeout':
      return t.giftWhyConfirmation;
    case 'no_items_available':
      return t.giftWhyNoItems;
    default:
      return t.giftWhyOther;
  }
}

/** The viewer's own gift request (the newest of theirs in the queue answer). */
export function myGift(queue: GiftRequest[] | null | undefined, userId: string | null): GiftRequest | null {
  if (!queue || !userId) return null;
  const mine = queue.filter((g) => g.viewerId === userId);
  if (mine.length === 0) return null;
  return mine.reduce((a, b) => (Date.parse(b.createdAt) > Date.parse(a.createdAt) ? b : a));
}

export function giftView(g: GiftRequest | null, t: Strings = EN): GiftView {
  if (!g) return { kind: 'none' };
  const item = g.selectedItem?.name ?? null;
  switch (g.state) {
    case 'Pending':
      return { kind: 'active', state: g.state, line: t.giftQueued(g.characterName, g.queuePosition, waitText(g.estimatedWaitSeconds, t)) };
    case 'SelectingItem':
      return { kind: 'active', state: g.state, line: t.giftPicking(g.characterName) };
    case 'WaitingConfirmation':
      return { kind: 'active', state: g.state, line: t.giftConfirm(item), whisper: true };
    case 'Completed':
      return { kind: 'done', state: g.state, line: t.giftDone(item) };
    default:
      return { kind: 'failed', state: g.state, line: t.giftFailed(giftFailure(g.failureReason, t)) };
  }
}

// ---------------------------------------------------------------- recent winners

export interface RecentWinner {
  name: string;
  /** HH:MM in the viewer's time zone. */
  time: string;
}

/** The state's recent winners (newest first, at most max); empty for an EBS that does not send them. */
export function recentWinners(s: RouletteState | null, lang: Lang = 'en', max = 5, timeZone?: string): RecentWinner[] {
  const list = Array.isArray(s?.recentWinners) ? s.recentWinners : [];
  const out: RecentWinner[] = [];
  for (const w of list) {
    if (!w || typeof w.characterName !== 'string' || w.characterName === '') continue;
    const at = Date.parse(w.at);
    const time = Number.isNaN(at)
      ? ''
      : new Date(at).toLocaleTimeString(lang === 'ru' ? 'ru-RU' : 'en-GB', { hour: '2-digit', minute: '2-digit', timeZone });
    out.push({ name: w.characterName, time });
    if (out.length >= max) break;
  }
  return out;
}

// ---------------------------------------------------------------- lifetime cap

export interface LifetimeView {
  committed: number;
  cap: number;
  /** 0–1 */
  fraction: number;
  /** Room for at least one more win (1,000 g). */
  roomForWin: boolean;
}

export const GOLD_PER_WIN = 1000;

/** Progress toward the lifetime cap; null for an EBS that does not send it. */
export function lifetimeView(me: PoolMe | null | undefined): LifetimeView | null {
  if (!me || typeof me.lifetimeGoldCommitted !== 'number' || typeof me.lifetimeCapGold !== 'number' || !(me.lifetimeCapGold > 0)) return null;
  const committed = Math.max(0, me.lifetimeGoldCommitted);
  const cap = me.lifetimeCapGold;
  return { committed, cap, fraction: Math.min(1, committed / cap), roomForWin: committed + GOLD_PER_WIN <= cap };
}

/**
 * Whether "you can join again" is true: not in the pool, no active payout,
 * and room under the cap (unknown cap: only the first two). null when the
 * panel does not know the viewer's membership yet.
 */
export function canJoinAgain(me: PoolMe | null | undefined, payout: Payout | null | undefined): boolean | null {
  if (!me) return null;
  if (me.isEnrolled) return false;
  if (payout && (payout.status === 'Pending' || payout.status === 'InProgress')) return false;
  const l = lifetimeView(me);
  return l == null || l.roomForWin;
}

// ---------------------------------------------------------------- winner cooldown

/**
 * "You're in, and can be drawn again from …" for an enrolled viewer whose
 * winner cooldown has not ended at now (ms); null otherwise. The time is the
 * viewer's local clock time, with the date when it is not today.
 */
export function cooldownLine(me: PoolMe | null | undefined, now: number, t: Strings = EN, lang: Lang = 'en', timeZone?: string): string | null {
  if (!me?.isEnrolled || typeof me.eligibleAgainAt !== 'string') return null;
  const at = Date.parse(me.eligibleAgainAt);
  if (Number.isNaN(at) || at <= now) return null;
  const locale = lang === 'ru' ? 'ru-RU' : 'en-GB';
  const day = (ms: number) => new Date(ms).toLocaleDateString(locale, { timeZone });
  const opts: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit', timeZone };
  if (day(at) !== day(now)) Object.assign(opts, { day: 'numeric', month: 'short' });
  return t.drawnAgainFrom(new Date(at).toLocaleString(locale, opts));
}

// ---------------------------------------------------------------- client-side name check

const LATIN = /[A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u024F\u1E00-\u1EFF\u2C60-\u2C7F\uA722-\uA787]/u;
const CYRILLIC = /[\u0400-\u052F\u1C80-\u1C8F\u2DE0-\u2DFF\uA640-\uA69F]/u;

/** The rules' CharacterName check (the EBS decides; this only saves a round trip). */
export function isValidCharacterName(raw: string): boolean {
  const chars = Array.from(raw.trim());
  if (chars.length < 2 || chars.length > 12) return false;
  return chars.every((c) => /\p{L}/u.test(c) && (LATIN.test(c) || CYRILLIC.test(c)));
}
