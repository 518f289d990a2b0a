import { describe, expect, it } from 'vitest';
import { type AlertInput, personalAlert } from './alerts';
import { strings } from './i18n';
import type { Payout, RouletteState } from './types';

const t = strings('en');
const state = (p: Partial<RouletteState>): RouletteState => ({
  nextSpinAt: '2026-04-04T12:05:00.000Z',
  serverNow: '2026-04-04T12:04:10.000Z',
  spinIntervalSeconds: 300,
  poolParticipantCount: 3,
  spinPhase: 'collecting',
  currentSpinCycleId: 'c1',
  candidateCharacterName: null,
  lastCycle: null,
  ...p,
});
const payout = (status: string): Payout => ({
  id: 'p1',
  twitchUserId: '42',
  twitchDisplayName: 'NorinnFan',
  characterName: 'Norinn',
  goldAmount: 1000,
  enrollmentRequestId: 'spin:x',
  status,
  createdAt: '2026-04-04T12:04:45.000Z',
  isRewardSentAnnouncedToChat: false,
});
const input = (p: Partial<AlertInput>): AlertInput => ({
  channelRefused: false,
  state: state({}),
  me: { isEnrolled: true, characterName: 'Norinn' },
  payout: null,
  landed: false,
  ...p,
});
const decided = (outcome: string, candidate = 'Norinn') => ({
  spinCycleId: 'c1',
  outcome,
  winnerCharacterName: outcome === 'winner' ? candidate : null,
  candidateCharacterName: candidate,
  decidedAt: '2026-04-04T12:04:40.000Z',
});

describe('the pinned alert', () => {
  it.each<[string, Partial<AlertInput>, string | null]>([
    ['nothing in particular', {}, null],
    ['an unserved channel beats everything', { channelRefused: true, payout: payout('Pending') }, 'channel'],
    ['a win to collect', { payout: payout('Pending') }, 'won'],
    ['a win being mailed', { payout: payout('InProgress') }, 'won'],
    ['a win already sent is no alert', { payout: payout('Sent') }, null],
    ['drawn, while the wheel still spins: not yet', { state: state({ spinPhase: 'spinning', candidateCharacterName: 'Norinn' }) }, null],
    ['drawn, the wheel landed', { state: state({ spinPhase: 'spinning', candidateCharacterName: 'Norinn' }), landed: true }, 'drawn'],
    ['drawn, verification', { state: state({ spinPhase: 'verification', candidateCharacterName: 'norinn' }) }, 'drawn'],
    ['someone else drawn', { state: state({ spinPhase: 'verification', candidateCharacterName: 'Kaelthas' }) }, null],
    ['drawn but not enrolled any more', { state: state({ spinPhase: 'verification', candidateCharacterName: 'Norinn' }), me: { isEnrolled: false, characterName: null } }, null],
    ['drawn and offline', { state: state({ spinPhase: 'completed', lastCycle: decided('no_winner') }) }, 'missed'],
    ['someone else offline', { state: state({ spinPhase: 'completed', lastCycle: decided('no_winner', 'Kaelthas') }) }, null],
    ['offline last round, a new round started', { state: state({ currentSpinCycleId: 'c2', lastCycle: decided('no_winner') }) }, null],
  ])('%s', (_, p, kind) => {
    expect(personalAlert(input(p), t)?.kind ?? null).toBe(kind);
  });

  it('keys each event once: the same win keeps its key as it progresses', () => {
    const a = personalAlert(input({ payout: payout('Pending') }), t)!;
    const b = personalAlert(input({ payout: { ...payout('InProgress'), acceptedAt: '2026-04-04T12:06:00Z' } }), t)!;
    expect(a.key).toBe(b.key);
    const d = personalAlert(input({ state: state({ spinPhase: 'verification', candidateCharacterName: 'Norinn' }) }), t)!;
    expect(d.title).toBe('You’ve been drawn — be online in WoW now!');
    expect(d.key).toBe('drawn|c1');
  });

  it('speaks Russian', () => {
    const d = personalAlert(input({ payout: payout('Pending') }), strings('ru'))!;
    expect(d.title).toBe('Ты победил!');
  });
});
