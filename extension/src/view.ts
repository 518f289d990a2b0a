// What each section shows, as pure functions of the EBS answers. The DOM code
// only copies these into elements.

import { cycleTimes } from './cadence';
import { formatMMSS } from './clock';
import type { GiftRequest, LastCycle, Payout, RouletteState } from './types';

/** The normative reward line (spec README, byte-exact). */
export function rewardLine(characterName: string): string {
  return `Награда отправлена персонажу ${characterName} на почту, проверяй ящик!`;
}

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

export function outcomeText(c: LastCycle): OutcomeView {
  const name = c.winnerCharacterName ?? c.candidateCharacterName ?? '';
  if (c.outcome === 'winner') return { kind: 'winner', text: `${name} won!` };
  if (c.outcome === 'no_winner') {
    return { kind: 'no_winner', text: name ? `${name} was offline — no winner this round` : 'No winner this round' };
  }
  return { kind: 'no_participants', text: 'Nobody could be drawn this round' };
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Maps the roulette state to the roulette section. */
export function rouletteView(s: RouletteState): RouletteView {
  const pool = s.poolParticipantCount;
  const last = s.lastCycle;
  const lastIsThisCycle = last != null && s.currentSpinCycleId != null && last.spinCycleId === s.currentSpinCycleId;
  const t = cycleTimes(s);
  const spinsAt = t ? formatMMSS(Math.round((t.end - t.drawAt) / 1000)) : null;
  const v: RouletteView = {
    phase: s.spinPhase,
    wheel: 'pool',
    name: null,
    cycleId: s.currentSpinCycleId,
    phaseLine: '',
    outcome: null,
    countdownLabel: 'Next round in',
    countdownHint: null,
  };
  const previous = (): OutcomeView | null => {
    if (!last || lastIsThisCycle) return null;
    const o = outcomeText(last);
    return { kind: o.kind, text: 'Last round: ' + o.text };
  };

  switch (s.spinPhase) {
    case 'idle':
      v.wheel = 'empty';
      v.phaseLine = 'The pool is empty — be the first to join!';
      v.outcome = previous();
      v.countdownHint = spinsAt ? `Once someone joins, the wheel spins at ${spinsAt}` : null;
      break;
    case 'collecting':
      // Until the next spin the wheel keeps showing where the last one stopped.
      v.wheel = last?.candidateCharacterName && !lastIsThisCycle ? 'rest' : 'pool';
      v.name = v.wheel === 'rest' ? last!.candidateCharacterName : null;
      v.phaseLine = `Collecting entries — ${plural(pool, 'viewer', 'viewers')} in the pool`;
      v.outcome = previous();
      v.countdownHint = spinsAt ? `The wheel spins at ${spinsAt}` : null;
      break;
    case 'spinning':
      if (s.candidateCharacterName) {
        v.wheel = 'spin';
        v.name = s.candidateCharacterName;
        v.phaseLine = 'The wheel is spinning…';
      } else {
        v.phaseLine = 'Drawing…';
      }
      break;
    case 'verification': {
      const name = s.candidateCharacterName ?? (lastIsThisCycle ? last.candidateCharacterName : null);
      v.wheel = name ? 'landed' : 'pool';
      v.name = name;
      v.phaseLine = name ? `Checking whether ${name} is online…` : 'Checking whether the winner is online…';
      if (lastIsThisCycle) v.outcome = outcomeText(last);
      break;
    }
    case 'completed':
      if (lastIsThisCycle) {
        const o = outcomeText(last);
        v.wheel = last.candidateCharacterName ? 'landed' : 'pool';
        v.name = last.candidateCharacterName;
        v.phaseLine = o.kind === 'winner' ? 'We have a winner!' : 'Round over';
        v.outcome = o;
      } else {
        v.phaseLine = 'Round over — nobody could be drawn';
      }
      break;
    default:
      v.phaseLine = pool > 0 ? 'Waiting for the next round' : 'The pool is empty — be the first to join!';
      v.wheel = pool > 0 ? 'pool' : 'empty';
  }
  return v;
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
      gold: number;
    }
  | { kind: 'sent'; name: string; rewardLine: string; gold: number }
  | { kind: 'last'; name: string; status: string; line: string };

export function payoutView(p: Payout | null | undefined): PayoutView {
  if (!p) return { kind: 'none' };
  const accepted = p.acceptedAt != null && p.acceptedAt !== '';
  switch (p.status) {
    case 'Pending':
    case 'InProgress':
      return {
        kind: 'won',
        name: p.characterName,
        status: p.status,
        accepted,
        gold: p.goldAmount,
        statusLine:
          p.status === 'InProgress'
            ? 'The streamer is preparing your mail'
            : accepted
              ? 'Accepted — waiting for the streamer to mail the gold'
              : 'Waiting for your reply in WoW',
      };
    case 'Sent':
      return { kind: 'sent', name: p.characterName, rewardLine: rewardLine(p.characterName), gold: p.goldAmount };
    default: {
      const why: Record<string, string> = {
        Failed: 'the delivery failed',
        Cancelled: 'it was cancelled',
        Expired: 'it was not delivered within 24 hours',
      };
      const reason = why[p.status] ?? p.status;
      return {
        kind: 'last',
        name: p.characterName,
        status: p.status,
        line: `Last payout to ${p.characterName}: ${reason}. You can join again with !twgold.`,
      };
    }
  }
}

// ---------------------------------------------------------------- gift

export type GiftView =
  | { kind: 'none' }
  | { kind: 'active' | 'done' | 'failed'; state: string; line: string };

/** "about 3 min" style wait. */
export function waitText(seconds: number): string {
  if (seconds <= 0) return "you're next";
  if (seconds < 60) return 'less than a minute';
  return `about ${Math.round(seconds / 60)} min`;
}

const GIFT_FAILURES: Record<string, string> = {
  receiver_declined: 'you declined the gift',
  selection_timeout: 'no item was picked in time',
  confirmation_timeout: 'there was no reply to the whisper in time',
  no_items_available: "the streamer's bags had nothing to give",
};

/** The viewer's own gift request (the newest of theirs in the queue answer). */
export function myGift(queue: GiftRequest[] | null | undefined, userId: string | null): GiftRequest | null {
  if (!queue || !userId) return null;
  const mine = queue.filter((g) => g.viewerId === userId);
  if (mine.length === 0) return null;
  return mine.reduce((a, b) => (Date.parse(b.createdAt) > Date.parse(a.createdAt) ? b : a));
}

export function giftView(g: GiftRequest | null): GiftView {
  if (!g) return { kind: 'none' };
  const item = g.selectedItem?.name;
  switch (g.state) {
    case 'Pending':
      return {
        kind: 'active',
        state: g.state,
        line: `${g.characterName} is #${g.queuePosition} in the gift queue — ${waitText(g.estimatedWaitSeconds)}.`,
      };
    case 'SelectingItem':
      return { kind: 'active', state: g.state, line: `The streamer is picking a gift for ${g.characterName}…` };
    case 'WaitingConfirmation':
      return {
        kind: 'active',
        state: g.state,
        line: `${item ? `Your gift: ${item}. ` : ''}Reply !twgift to the streamer's whisper in WoW to accept it.`,
      };
    case 'Completed':
      return { kind: 'done', state: g.state, line: `Gift accepted${item ? `: ${item}` : ''} — check your mailbox!` };
    default: {
      const why = (g.failureReason && GIFT_FAILURES[g.failureReason]) || 'it could not be completed';
      return { kind: 'failed', state: g.state, line: `No gift this time: ${why}.` };
    }
  }
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
