import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ApiResult } from './api';
import { CommitmentMemory, proofPath, verifyDraw, type VerifyOutcome, verifyText } from './drawview';
import { strings } from './i18n';
import type { RouletteState } from './types';

const en = strings('en');
const ru = strings('ru');

const state = (p: Partial<RouletteState>): RouletteState => ({
  nextSpinAt: '2026-04-04T12:05:00.000Z',
  serverNow: '2026-04-04T12:01:23.456Z',
  spinIntervalSeconds: 300,
  poolParticipantCount: 3,
  spinPhase: 'collecting',
  currentSpinCycleId: 'c2',
  candidateCharacterName: null,
  lastCycle: null,
  drawCommitment: 'aa'.repeat(32),
  ...p,
});

function memStore() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), m };
}

describe('the commitments seen before each draw', () => {
  it('are noted while collecting, the first one kept', () => {
    const mem = new CommitmentMemory();
    mem.see(state({}));
    mem.see(state({ drawCommitment: 'bb'.repeat(32) }));
    expect(mem.saved('c2')).toBe('aa'.repeat(32));
    expect(mem.saved('c1')).toBe('');
  });

  it('are not noted once the draw is past, or when there is none', () => {
    const mem = new CommitmentMemory();
    for (const spinPhase of ['spinning', 'verification', 'completed']) mem.see(state({ spinPhase }));
    mem.see(state({ currentSpinCycleId: 'c3', drawCommitment: null }));
    mem.see(state({ currentSpinCycleId: 'c4', drawCommitment: undefined }));
    expect([mem.saved('c2'), mem.saved('c3'), mem.saved('c4')]).toEqual(['', '', '']);
  });

  it('survive a reload through the store, the newest few only', () => {
    const store = memStore();
    const mem = new CommitmentMemory(store, 2);
    for (const id of ['c1', 'c2', 'c3']) mem.see(state({ currentSpinCycleId: id }));
    const again = new CommitmentMemory(store, 2);
    expect([again.saved('c1'), again.saved('c2'), again.saved('c3')]).toEqual(['', 'aa'.repeat(32), 'aa'.repeat(32)]);
  });

  it('work without a usable store', () => {
    const broken = {
      getItem: () => '{not json',
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
    };
    const mem = new CommitmentMemory(broken);
    mem.see(state({}));
    expect(mem.saved('c2')).toBe('aa'.repeat(32));
  });
});

const vectors = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../internal/drawproof/testdata/vectors.json'), 'utf8')) as {
  version: string;
  draws: { name: string; seed: string; cycleId: string; members: { twitchUserId: string }[]; commitment: string; list: unknown[]; listHash: string; index: number | null; candidateCharacterName: string | null }[];
};
const v = vectors.draws.find((d) => d.list.length === 3)!;
const proof = {
  version: vectors.version,
  cycleId: v.cycleId,
  commitment: v.commitment,
  seed: v.seed,
  list: v.list,
  listHash: v.listHash,
  index: v.index,
  candidateCharacterName: v.candidateCharacterName,
};
const answer = (data: unknown): ApiResult<unknown> => ({ ok: true, status: 200, data, sentAt: 0, receivedAt: 0 });
const refusal = (status: number, code: string, message = ''): ApiResult<unknown> => ({
  ok: false,
  error: { kind: 'http', status, code, message, retryAfterMs: null },
  sentAt: 0,
  receivedAt: 0,
});
const input = { cycleId: v.cycleId, saved: v.commitment, shownCandidate: v.candidateCharacterName, won: true, userId: null };

describe('checking a cycle', () => {
  it('asks the public proof route of that cycle and checks the answer', async () => {
    const asked: string[] = [];
    const o = await verifyDraw(async (p) => (asked.push(p), answer(proof)), { ...input, userId: v.members[0].twitchUserId });
    expect(asked).toEqual([`/api/roulette/cycles/${v.cycleId}/proof`]);
    expect(o).toEqual({ kind: 'checked', mismatches: [], entries: 3, index: v.index, name: v.candidateCharacterName, won: true, savedChecked: true, own: expect.any(Number) });
    expect(proof.list[(o as { own: number }).own]).toMatchObject({ characterName: (v.members[0] as { characterName?: string }).characterName });
  });

  it('says who is not in the list, and nothing when it does not know who is asking', async () => {
    expect(await verifyDraw(async () => answer(proof), { ...input, userId: 'someone-else' })).toMatchObject({ own: -1 });
    expect(await verifyDraw(async () => answer(proof), input)).toMatchObject({ own: null });
  });

  it('reports what differs in a tampered proof', async () => {
    const o = await verifyDraw(async () => answer({ ...proof, seed: 'ab'.repeat(32) }), input);
    expect(o.kind === 'checked' && o.mismatches.map((m) => m.field).slice(0, 2)).toEqual(['commitment', 'savedCommitment']);
  });

  it('passes refusals on, and refuses what is not a proof', async () => {
    expect(await verifyDraw(async () => refusal(409, 'draw_not_revealed'), input)).toMatchObject({ kind: 'error', code: 'draw_not_revealed' });
    expect(await verifyDraw(async () => answer({ hello: 1 }), input)).toMatchObject({ kind: 'error', code: 'unreadable_proof' });
  });

  it('escapes the cycle id in the path', () => {
    expect(proofPath('a/b')).toBe('/api/roulette/cycles/a%2Fb/proof');
  });
});

const checked = (p: Partial<Extract<VerifyOutcome, { kind: 'checked' }>>): VerifyOutcome => ({
  kind: 'checked',
  mismatches: [],
  entries: 3,
  index: 1,
  name: 'Norinn',
  won: true,
  savedChecked: true,
  own: null,
  ...p,
});

describe('what the viewer reads', () => {
  it('✓ with the winner and the commitment seen before the draw', () => {
    expect(verifyText(checked({ own: 1 }), en)).toEqual({
      ok: true,
      head: '✓ Draw verified: 3 entries, winner #2 Norinn; commitment published before the draw matched',
      diffs: [],
      you: 'You are in the list (#2).',
    });
    expect(verifyText(checked({ entries: 1, index: 0, won: false, savedChecked: false, own: -1 }), en)).toMatchObject({
      head: '✓ Draw verified: 1 entry, drawn #1 Norinn; this panel did not see the commitment before the draw',
      you: 'You are not in this list.',
    });
    expect(verifyText(checked({ entries: 0, index: null, name: null }), en).head).toMatch(/^✓ Draw verified: nobody was eligible;/);
    expect(verifyText(checked({}), ru).head).toBe('✓ Розыгрыш проверен: 3 участника, победитель №2 Norinn; хеш, опубликованный до розыгрыша, совпал');
  });

  it('✗ with exactly what differs', () => {
    const c = 'c'.repeat(64);
    const d = 'd'.repeat(64);
    const t = verifyText(
      checked({
        mismatches: [
          { field: 'commitment', published: c, recomputed: d, detail: '' },
          { field: 'list', published: '', recomputed: '', entry: 2, problem: 'order', detail: '' },
          { field: 'index', published: '0', recomputed: '2', detail: '' },
          { field: 'somethingNew', published: '', recomputed: '', detail: 'the detail' },
        ],
      }),
      en,
    );
    expect(t.ok).toBe(false);
    expect(t.head).toBe('✗ This draw does not verify:');
    expect(t.diffs).toEqual([
      'SHA-256 of the seed is dddddddddddddddd…, not the published commitment cccccccccccccccc…',
      'entries #2 and #3 are out of order',
      'the seed and the list draw #3, not #1',
      'somethingNew: the detail',
    ]);
  });

  it('a broken list of thousands is summed up', () => {
    const ms = Array.from({ length: 1000 }, (_, i) => ({ field: 'list', published: '', recomputed: '', entry: i, problem: 'name' as const, detail: '' }));
    const t = verifyText(checked({ mismatches: ms }), en);
    expect(t.diffs).toHaveLength(7);
    expect(t.diffs[6]).toBe('…and 994 more');
  });

  it.each([
    ['draw_not_revealed', 409, '', 'The seed is revealed after the draw — try again in a moment.'],
    ['no_draw_proof', 404, '', 'This round has no proof: it was decided without a committed draw.'],
    ['draw_proof_expired', 410, 'Kept 30 days.', 'This round’s proof is no longer kept.'],
    ['network', 0, 'Failed to fetch', "The proof could not be loaded: Can't reach the Gold-o-Matic"],
    ['some_new_code', 418, 'The server says why.', 'The proof could not be loaded: The server says why.'],
    ['some_new_code', 418, '', 'The proof could not be loaded: Something went wrong'],
  ])('%s (%d)', (code, status, message, want) => {
    expect(verifyText({ kind: 'error', code, status, message }, en)).toEqual({ ok: false, head: want, diffs: [], you: null });
  });
});
