import { describe, expect, it } from 'vitest';
import type { GiftRequest, Payout, RouletteState } from './types';
import { strings } from './i18n';
import { canJoinAgain, cooldownLine, giftView, isValidCharacterName, lifetimeView, myGift, payoutView, recentWinners, rewardLine, rouletteView, waitText } from './view';

const base: RouletteState = {
  nextSpinAt: '2026-04-04T12:05:00.000Z',
  serverNow: '2026-04-04T12:01:23.456Z',
  spinIntervalSeconds: 300,
  poolParticipantCount: 3,
  spinPhase: 'collecting',
  currentSpinCycleId: 'c2',
  candidateCharacterName: null,
  lastCycle: null,
  poolCharacterNames: ['Norinn', 'Kaelthas', 'Мимира'],
};
const st = (p: Partial<RouletteState>): RouletteState => ({ ...base, ...p });
const decided = (p: Partial<NonNullable<RouletteState['lastCycle']>>) => ({
  spinCycleId: 'c2',
  outcome: 'winner',
  winnerCharacterName: 'Norinn',
  candidateCharacterName: 'Norinn',
  decidedAt: '2026-04-04T12:04:40.000Z',
  ...p,
});

describe('phase → view', () => {
  it('idle: empty wheel and an invitation', () => {
    const v = rouletteView(st({ spinPhase: 'idle', poolParticipantCount: 0, currentSpinCycleId: null }));
    expect(v.wheel).toBe('empty');
    expect(v.phaseLine).toBe('The pool is empty — be the first to join!');
    expect(v.countdownLabel).toBe('Next round in');
  });

  it('collecting: the pool on the wheel, the pool size and when the wheel spins', () => {
    const v = rouletteView(st({}));
    expect(v.wheel).toBe('pool');
    expect(v.phaseLine).toBe('Collecting entries — 3 viewers in the pool');
    expect(v.countdownHint).toBe('The wheel spins at 01:00');
    expect(rouletteView(st({ poolParticipantCount: 1 })).phaseLine).toContain('1 viewer in the pool');
  });

  it('collecting shows the previous round as "Last round"', () => {
    const v = rouletteView(st({ lastCycle: decided({ spinCycleId: 'c1', outcome: 'no_winner', winnerCharacterName: null }) }));
    expect(v.outcome).toEqual({ kind: 'no_winner', text: 'Last round: Norinn was offline — no winner this round' });
    // The wheel still shows where the last spin stopped.
    expect(v.wheel).toBe('rest');
    expect(v.name).toBe('Norinn');
  });

  it('spinning: the wheel spins and lands on the real candidate', () => {
    const v = rouletteView(st({ spinPhase: 'spinning', candidateCharacterName: 'Мимира' }));
    expect(v.wheel).toBe('spin');
    expect(v.name).toBe('Мимира');
    expect(v.cycleId).toBe('c2');
    expect(rouletteView(st({ spinPhase: 'spinning' })).wheel).toBe('pool');
  });

  it('verification: "Checking whether <name> is online…"', () => {
    const v = rouletteView(st({ spinPhase: 'verification', candidateCharacterName: 'Norinn' }));
    expect(v.wheel).toBe('landed');
    expect(v.phaseLine).toBe('Checking whether Norinn is online…');
  });

  it('completed: the outcome lines', () => {
    const won = rouletteView(st({ spinPhase: 'completed', lastCycle: decided({}) }));
    expect(won.outcome).toEqual({ kind: 'winner', text: 'Norinn won!' });
    expect(won.wheel).toBe('landed');
    expect(won.name).toBe('Norinn');
    const offline = rouletteView(
      st({ spinPhase: 'completed', lastCycle: decided({ outcome: 'no_winner', winnerCharacterName: null }) }),
    );
    expect(offline.outcome?.text).toBe('Norinn was offline — no winner this round');
    const nobody = rouletteView(st({ spinPhase: 'completed', lastCycle: null }));
    expect(nobody.outcome).toBeNull();
    expect(nobody.phaseLine).toContain('nobody could be drawn');
  });

  it('an unknown phase falls back calmly', () => {
    expect(rouletteView(st({ spinPhase: 'warming_up' })).phaseLine).toBe('Waiting for the next round');
  });
});

const payout = (p: Partial<Payout>): Payout => ({
  id: 'p1',
  twitchUserId: '42',
  twitchDisplayName: 'NorinnFan',
  characterName: 'Norinn',
  goldAmount: 1000,
  enrollmentRequestId: 'spin:x',
  status: 'Pending',
  createdAt: '2026-04-04T12:04:45.000Z',
  isRewardSentAnnouncedToChat: false,
  acceptedAt: null,
  ...p,
});

describe('payout → view', () => {
  it('Pending/InProgress: You won! with the acceptance state', () => {
    const v = payoutView(payout({}));
    expect(v.kind).toBe('won');
    if (v.kind !== 'won') return;
    expect(v.accepted).toBe(false);
    expect(v.statusLine).toBe('Waiting for your reply in WoW');
    const a = payoutView(payout({ acceptedAt: '2026-04-04T12:06:00.000Z' }));
    expect(a.kind === 'won' && a.accepted).toBe(true);
    expect(a.kind === 'won' && a.statusLine).toBe('Accepted — waiting for the streamer to mail the gold');
    expect(payoutView(payout({ status: 'InProgress' })).kind).toBe('won');
  });

  it('Sent: the normative reward line, byte for byte', () => {
    const v = payoutView(payout({ status: 'Sent' }));
    expect(v.kind === 'sent' && v.rewardLine).toBe('Награда отправлена персонажу Norinn на почту, проверяй ящик!');
    expect(Buffer.from(rewardLine('Norinn'), 'utf8').toString('hex')).toBe(
      Buffer.from('Награда отправлена персонажу Norinn на почту, проверяй ящик!', 'utf8').toString('hex'),
    );
  });

  it('Failed/Cancelled/Expired: a calm "Last payout" line', () => {
    for (const status of ['Failed', 'Cancelled', 'Expired']) {
      const v = payoutView(payout({ status }));
      expect(v.kind).toBe('last');
      expect(v.kind === 'last' && v.line).toMatch(/^Last payout to Norinn: /);
    }
    expect(payoutView(null).kind).toBe('none');
  });
});

const gift = (p: Partial<GiftRequest>): GiftRequest => ({
  id: 'g1',
  streamerId: 'b1',
  viewerId: '42',
  viewerDisplayName: 'NorinnFan',
  characterName: 'Norinn',
  state: 'Pending',
  selectedItem: null,
  queuePosition: 3,
  estimatedWaitSeconds: 130,
  createdAt: '2026-04-04T12:00:00.000Z',
  updatedAt: '2026-04-04T12:00:00.000Z',
  timeoutAt: null,
  failureReason: null,
  ...p,
});

describe('gift → view', () => {
  it('finds the viewer’s own newest request', () => {
    const q = [gift({ viewerId: '7', id: 'other' }), gift({}), gift({ id: 'g2', createdAt: '2026-04-04T12:01:00.000Z' })];
    expect(myGift(q, '42')?.id).toBe('g2');
    expect(myGift(q, null)).toBeNull();
    expect(myGift(q, '99')).toBeNull();
  });

  it('position and ETA, then the result', () => {
    expect(giftView(gift({})).kind).toBe('active');
    expect(giftView(gift({})).kind !== 'none' && (giftView(gift({})) as { line: string }).line).toBe(
      'Norinn is #3 in the gift queue — about 2 min.',
    );
    const wc = giftView(gift({ state: 'WaitingConfirmation', selectedItem: { name: 'Linen Cloth', id: 2589, count: 5, link: '', texture: '', bagId: 0, slotId: 1 } }));
    expect(wc.kind !== 'none' && wc.line).toContain('Your gift: Linen Cloth. Reply !twgift');
    expect(giftView(gift({ state: 'Completed' })).kind).toBe('done');
    const f = giftView(gift({ state: 'Failed', failureReason: 'confirmation_timeout' }));
    expect(f.kind !== 'none' && f.line).toBe('No gift this time: there was no reply to the whisper in time.');
    expect(waitText(0)).toBe("you're next");
    expect(waitText(45)).toBe('less than a minute');
  });
});

describe('character names', () => {
  it('accepts 2–12 Latin or Cyrillic letters only', () => {
    for (const ok of ['Norinn', 'Мимира', 'Ab', 'Éowyn', 'Abcdefghijkl']) expect(isValidCharacterName(ok)).toBe(true);
    for (const bad of ['N', 'Abcdefghijklm', 'N0rinn', 'Nor inn', 'Nor-inn', '李白', 'A×b', '']) {
      expect(isValidCharacterName(bad)).toBe(false);
    }
  });
});

describe('issue 16 views', () => {
  it('spinning: says where the wheel stopped once it has landed, not "spinning"', () => {
    const s = st({ spinPhase: 'spinning', candidateCharacterName: 'Norinn' });
    expect(rouletteView(s).phaseLine).toBe('The wheel is spinning…');
    expect(rouletteView(s, strings('en'), true).phaseLine).toBe('The wheel stopped on Norinn');
    expect(rouletteView(s, strings('ru'), true).phaseLine).toBe('Колесо остановилось на Norinn');
  });

  it('speaks Russian', () => {
    const ru = strings('ru');
    expect(rouletteView(st({}), ru).phaseLine).toBe('Идёт запись — в пуле 3 зрителя');
    expect(rouletteView(st({ spinPhase: 'verification', candidateCharacterName: 'Norinn' }), ru).phaseLine).toBe('Проверяем, в игре ли Norinn…');
    const v = payoutView(payout({ status: 'Sent' }), ru, 'ru');
    expect(v.kind === 'sent' && v.rewardLine).toBe('Награда отправлена персонажу Norinn на почту, проверяй ящик!');
  });

  it('"you can join again" only when it is true', () => {
    const out = { isEnrolled: false, characterName: null, lifetimeGoldCommitted: 3000, lifetimeCapGold: 10000 };
    expect(canJoinAgain(out, payout({ status: 'Sent' }))).toBe(true);
    expect(canJoinAgain({ ...out, isEnrolled: true, characterName: 'Norinn' }, payout({ status: 'Sent' }))).toBe(false);
    expect(canJoinAgain({ ...out, lifetimeGoldCommitted: 10000 }, payout({ status: 'Sent' }))).toBe(false);
    expect(canJoinAgain({ ...out, lifetimeGoldCommitted: 9000 }, payout({ status: 'Sent' }))).toBe(true);
    expect(canJoinAgain(out, payout({ status: 'Pending' }))).toBe(false);
    expect(canJoinAgain({ isEnrolled: false, characterName: null }, null)).toBe(true); // an older EBS: no cap figures
    expect(canJoinAgain(null, payout({ status: 'Failed' }))).toBeNull();
    const sent = payoutView(payout({ status: 'Sent' }), strings('en'), 'en', false);
    expect(sent.kind === 'sent' && sent.again).toBeNull();
    const last = payoutView(payout({ status: 'Expired' }), strings('en'), 'en', true);
    expect(last.kind === 'last' && last.again).toBe('You can join again with !twgold.');
    expect(last.kind === 'last' && last.line).not.toContain('join again');
  });

  it('progress toward the lifetime cap, absent for an older EBS', () => {
    expect(lifetimeView({ isEnrolled: true, characterName: 'N', lifetimeGoldCommitted: 3000, lifetimeCapGold: 10000 })).toEqual({
      committed: 3000,
      cap: 10000,
      fraction: 0.3,
      roomForWin: true,
    });
    expect(lifetimeView({ isEnrolled: true, characterName: 'N', lifetimeGoldCommitted: 9500, lifetimeCapGold: 10000 })?.roomForWin).toBe(false);
    expect(lifetimeView({ isEnrolled: true, characterName: 'N' })).toBeNull();
    expect(lifetimeView(null)).toBeNull();
  });

  it('recent winners, newest first as sent, at most five, absent for an older EBS', () => {
    const winners = Array.from({ length: 7 }, (_, i) => ({ characterName: `W${i}`, at: `2026-04-04T12:0${i}:00Z` }));
    const r = recentWinners(st({ recentWinners: winners }), 'en', 5, 'UTC');
    expect(r.map((w) => w.name)).toEqual(['W0', 'W1', 'W2', 'W3', 'W4']);
    expect(r[1].time).toBe('12:01');
    expect(recentWinners(st({}), 'en')).toEqual([]);
    expect(recentWinners(st({ recentWinners: [{ characterName: '', at: 'x' }, { characterName: 'A', at: 'garbage' }] }), 'en')).toEqual([{ name: 'A', time: '' }]);
  });
});

describe('issue 17: the streamer\'s controls', () => {
  it.each([
    ['streamer', 'Paused by the streamer', 'The wheel spins again once the streamer resumes it'],
    ['budget', 'Paused: today’s gold is given out', 'Draws resume after midnight UTC, with a new day’s gold'],
    ['offline', 'Paused: the stream is offline', 'The wheel spins again once the stream is live'],
  ])('paused (%s): the reason in the phase line, the countdown to the end of the round', (reason, line, hint) => {
    const v = rouletteView(st({ spinPhase: 'paused', pausedReason: reason }));
    expect(v.phase).toBe('paused');
    expect(v.phaseLine).toBe(line);
    expect(v.countdownLabel).toBe('Round ends in');
    expect(v.countdownHint).toBe(hint);
    // Nothing is drawn: the wheel shows the pool, no name.
    expect(v.wheel).toBe('pool');
    expect(v.name).toBeNull();
  });

  it('paused, in Russian', () => {
    const ru = strings('ru');
    expect(rouletteView(st({ spinPhase: 'paused', pausedReason: 'streamer' }), ru).phaseLine).toBe('Пауза: стример остановил розыгрыш');
    expect(rouletteView(st({ spinPhase: 'paused', pausedReason: 'budget' }), ru).phaseLine).toBe('Пауза: золото на сегодня роздано');
    const off = rouletteView(st({ spinPhase: 'paused', pausedReason: 'offline' }), ru);
    expect(off.phaseLine).toBe('Пауза: стрим офлайн');
    expect(off.countdownLabel).toBe('Раунд закончится через');
  });

  it('paused: an empty pool, the last round, and a reason this panel does not know', () => {
    const empty = rouletteView(st({ spinPhase: 'paused', pausedReason: 'offline', poolParticipantCount: 0, poolCharacterNames: [] }));
    expect(empty.wheel).toBe('empty');
    const withLast = rouletteView(st({ spinPhase: 'paused', pausedReason: 'streamer', lastCycle: decided({ spinCycleId: 'c1' }) }));
    expect(withLast.outcome).toEqual({ kind: 'winner', text: 'Last round: Norinn won!' });
    const unknown = rouletteView(st({ spinPhase: 'paused', pausedReason: 'solar_eclipse' }));
    expect(unknown.phaseLine).toBe('The roulette is paused');
    expect(unknown.countdownHint).toBeNull();
    expect(rouletteView(st({ spinPhase: 'paused' })).phaseLine).toBe('The roulette is paused');
  });

  it('a banned viewer is told so', async () => {
    const { friendlyError } = await import('./errors');
    expect(friendlyError({ code: 'banned', status: 403, message: 'raw' }).body).toBe('The streamer has removed you from the giveaway.');
    expect(friendlyError({ code: 'banned', status: 403 }, strings('ru')).body).toBe('Стример исключил тебя из розыгрыша.');
  });

  describe('winner cooldown', () => {
    const now = Date.parse('2026-04-04T12:01:00Z');
    const me = (eligibleAgainAt: string | null | undefined, isEnrolled = true) => ({
      isEnrolled,
      characterName: isEnrolled ? 'Norinn' : null,
      eligibleAgainAt,
    });

    it('says from when an enrolled winner can be drawn again, in local time', () => {
      expect(cooldownLine(me('2026-04-04T12:30:00Z'), now, strings('en'), 'en', 'UTC')).toBe('You’re in, and can be drawn again from 12:30');
      expect(cooldownLine(me('2026-04-04T12:30:00Z'), now, strings('en'), 'en', 'Europe/Moscow')).toBe(
        'You’re in, and can be drawn again from 15:30',
      );
      expect(cooldownLine(me('2026-04-04T12:30:00Z'), now, strings('ru'), 'ru', 'UTC')).toBe('Ты в пуле, и тебя снова можно выбрать с 12:30');
    });

    it('names the day when it is not today', () => {
      const line = cooldownLine(me('2026-04-05T09:05:00Z'), now, strings('en'), 'en', 'UTC');
      expect(line).toMatch(/^You’re in, and can be drawn again from 5 Apr,? 09:05$/);
    });

    it('says nothing without a cooldown, once it is over, or for a viewer not in the pool', () => {
      expect(cooldownLine(me(null), now)).toBeNull();
      expect(cooldownLine(me(undefined), now)).toBeNull();
      expect(cooldownLine(me('2026-04-04T12:00:00Z'), now)).toBeNull();
      expect(cooldownLine(me('not a time'), now)).toBeNull();
      expect(cooldownLine(me('2026-04-04T12:30:00Z', false), now)).toBeNull();
      expect(cooldownLine(null, now)).toBeNull();
    });
  });
});
