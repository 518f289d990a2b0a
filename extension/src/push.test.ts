import { describe, expect, it } from 'vitest';
import { acceptFetched, acceptPush, compareRank, outcomeKey, parsePush, type Shown, TRUST_FETCH_AFTER_MS } from './push';
import type { RouletteState } from './types';

function st(nextSpinAt: string, spinPhase: string, extra: Partial<RouletteState> = {}): RouletteState {
  return {
    nextSpinAt,
    serverNow: '2026-01-01T00:00:00Z',
    spinIntervalSeconds: 300,
    poolParticipantCount: 3,
    spinPhase,
    currentSpinCycleId: 'c1',
    candidateCharacterName: null,
    lastCycle: null,
    ...extra,
  };
}

const A = '2026-01-01T00:05:00Z';
const B = '2026-01-01T00:10:00Z';

describe('parsePush', () => {
  const good = { v: 1, kind: 'state', seq: 7, state: st(A, 'collecting') };

  it('reads the EBS message, as a string or already parsed', () => {
    expect(parsePush(JSON.stringify(good))).toEqual({ seq: 7, state: good.state });
    expect(parsePush(good)?.seq).toBe(7);
  });

  it.each([
    ['not JSON', '{'],
    ['another version', JSON.stringify({ ...good, v: 2 })],
    ['another kind', JSON.stringify({ ...good, kind: 'hello' })],
    ['no seq', JSON.stringify({ ...good, seq: undefined })],
    ['a fractional seq', JSON.stringify({ ...good, seq: 1.5 })],
    ['a negative seq', JSON.stringify({ ...good, seq: -1 })],
    ['no state', JSON.stringify({ ...good, state: null })],
    ['a state without nextSpinAt', JSON.stringify({ ...good, state: { spinPhase: 'idle' } })],
    ['an unreadable nextSpinAt', JSON.stringify({ ...good, state: st('soon', 'idle') })],
    ['null', null],
    ['a number', 5],
  ])('ignores %s', (_, m) => {
    expect(parsePush(m)).toBeNull();
  });
});

describe('ordering', () => {
  it('ranks by round, then phase', () => {
    expect(compareRank(st(A, 'spinning'), st(A, 'collecting'))).toBeGreaterThan(0);
    expect(compareRank(st(A, 'completed'), st(A, 'verification'))).toBeGreaterThan(0);
    expect(compareRank(st(B, 'collecting'), st(A, 'completed'))).toBeGreaterThan(0);
    expect(compareRank(st(A, 'idle'), st(A, 'collecting'))).toBe(0);
  });

  const shown = (state: RouletteState | null, seq: number | null, receivedAt = 1000): Shown => ({ state, seq, receivedAt });

  it.each([
    ['the first push', shown(null, null), 1, st(A, 'collecting'), true],
    ['a newer seq, same phase (pool count)', shown(st(A, 'collecting'), 4), 5, st(A, 'collecting', { poolParticipantCount: 9 }), true],
    ['an older seq, same phase', shown(st(A, 'collecting'), 5), 4, st(A, 'collecting'), false],
    ['the same seq again', shown(st(A, 'spinning'), 5), 5, st(A, 'spinning'), false],
    ['an older seq of an earlier phase', shown(st(A, 'spinning'), 5), 4, st(A, 'collecting'), false],
    ['a newer seq that steps back (a fetch saw further)', shown(st(A, 'verification'), 5), 6, st(A, 'spinning'), false],
    ['a lower seq of a later round (the EBS restarted)', shown(st(A, 'completed'), 90), 1, st(B, 'collecting'), true],
    ['a lower seq of a later phase (the EBS restarted)', shown(st(A, 'collecting'), 90), 2, st(A, 'spinning'), true],
    ['the first push after fetches only', shown(st(A, 'spinning'), null), 3, st(A, 'spinning'), true],
  ])('push: %s', (_, sh, seq, state, want) => {
    expect(acceptPush(sh, { seq, state })).toBe(want);
  });

  it.each([
    ['nothing shown yet', shown(null, null), st(A, 'idle'), 0, true],
    ['a later phase', shown(st(A, 'collecting'), 3, 1000), st(A, 'spinning'), 500, true],
    ['the same phase', shown(st(A, 'spinning'), 3, 1000), st(A, 'spinning'), 500, true],
    ['an earlier phase, overtaken by a push', shown(st(A, 'spinning'), 3, 1000), st(A, 'collecting'), 900, false],
    ['an earlier phase from a replica a tick behind', shown(st(A, 'spinning'), 3, 1000), st(A, 'collecting'), 1200, false],
    ['an earlier round long after (the EBS restarted)', shown(st(B, 'collecting'), 3, 1000), st(A, 'collecting'), 1000 + TRUST_FETCH_AFTER_MS, true],
  ])('fetch: %s', (_, sh, state, sentAt, want) => {
    expect(acceptFetched(sh, state, sentAt)).toBe(want);
  });

  it('keys the outcome by cycle and result', () => {
    expect(outcomeKey(null)).toBe('');
    expect(outcomeKey(st(A, 'completed', { lastCycle: { spinCycleId: 'c1', outcome: 'winner', winnerCharacterName: 'N', candidateCharacterName: 'N', decidedAt: A } }))).toBe('c1|winner');
  });
});
