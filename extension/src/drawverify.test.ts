import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkProof,
  commitment,
  compareEntries,
  draw,
  drawIndex,
  type DrawProof,
  findOwnEntry,
  listHash,
  orderKey,
  parseSeed,
  readProof,
  verifyProof,
} from './drawverify';

// The EBS's vectors: this verifier must reproduce every one of them exactly.
interface Vectors {
  version: string;
  draws: {
    name: string;
    seed: string;
    cycleId: string;
    members: { twitchUserId: string; characterName: string }[];
    commitment: string;
    list: { orderKey: string; characterName: string }[];
    listHash: string;
    index: number | null;
    counter: number;
    candidateCharacterName: string | null;
  }[];
  indexes: { name: string; seed: string; cycleId: string; listHash: string; n: string; index: string; counter: number }[];
}

const vectors = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../internal/drawproof/testdata/vectors.json'), 'utf8')) as Vectors;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

function proofOf(v: Vectors['draws'][number]): DrawProof {
  return {
    version: vectors.version,
    cycleId: v.cycleId,
    commitment: v.commitment,
    seed: v.seed,
    list: v.list.map((e) => ({ ...e })),
    listHash: v.listHash,
    index: v.index,
    candidateCharacterName: v.candidateCharacterName,
  };
}

const fields = (ms: { field: string }[]) => ms.map((m) => m.field);

describe('the test vectors', () => {
  it('are there, with the loop exercised', () => {
    expect(vectors.version).toBe('mgm-draw-v1');
    expect(vectors.draws.length).toBeGreaterThanOrEqual(5);
    expect(vectors.indexes.some((v) => v.counter > 0)).toBe(true);
  });

  describe.each(vectors.draws.map((v) => [v.name, v] as const))('draw: %s', (_, v) => {
    it('gives the commitment, order keys, canonical order, list hash, index and candidate', async () => {
      expect(await commitment(parseSeed(v.seed)!)).toBe(v.commitment);
      const list = await Promise.all(v.members.map(async (m) => ({ orderKey: await orderKey(m.twitchUserId), characterName: m.characterName })));
      list.sort(compareEntries);
      expect(list).toEqual(v.list);
      expect(hex(await listHash(list))).toBe(v.listHash);
      const r = await draw(parseSeed(v.seed)!, v.cycleId, list);
      expect(r.index).toBe(v.index ?? -1);
      expect(r.counter).toBe(v.counter);
      expect(r.index >= 0 ? list[r.index].characterName : null).toBe(v.candidateCharacterName);
    });

    it('verifies as published, with and without the saved commitment', async () => {
      expect(await verifyProof(proofOf(v))).toEqual([]);
      expect(await verifyProof(proofOf(v), v.commitment.toUpperCase())).toEqual([]);
      expect(await checkProof(proofOf(v), { cycleId: v.cycleId, saved: v.commitment, shownCandidate: v.candidateCharacterName })).toEqual([]);
    });

    it('finds each member’s own entry', async () => {
      for (const m of v.members) {
        const i = await findOwnEntry(v.list, m.twitchUserId);
        expect(v.list[i]?.characterName).toBe(m.characterName);
      }
      expect(await findOwnEntry(v.list, 'not-a-member')).toBe(-1);
    });
  });

  it.each(vectors.indexes.map((v) => [v.name, v] as const))('index: %s', async (_, v) => {
    const r = await drawIndex(parseSeed(v.seed)!, v.cycleId, unhex(v.listHash), BigInt(v.n));
    expect(r.index.toString()).toBe(v.index);
    expect(r.counter).toBe(v.counter);
  });
});

describe('a changed proof is reported', () => {
  const v = vectors.draws.find((d) => d.list.length >= 4)!;
  const other = vectors.draws.find((d) => d !== v && d.list.length > 0)!;

  it('another seed: the commitment (and the saved one) no longer match', async () => {
    const p = { ...proofOf(v), seed: other.seed };
    const ms = await verifyProof(p, v.commitment);
    expect(fields(ms).slice(0, 2)).toEqual(['commitment', 'savedCommitment']);
    expect(ms[0]).toMatchObject({ published: v.commitment, recomputed: other.commitment });
  });

  it('a seed that is not 64 lowercase hex digits', async () => {
    expect(fields(await verifyProof({ ...proofOf(v), seed: v.seed.toUpperCase() }))).toEqual(['seed']);
    expect(fields(await verifyProof({ ...proofOf(v), seed: v.seed.slice(2) }))).toEqual(['seed']);
  });

  it('a consistent proof whose commitment is not the one seen before the draw', async () => {
    expect(fields(await verifyProof(proofOf(v), other.commitment))).toEqual(['savedCommitment']);
  });

  it('a changed list entry: the list hash', async () => {
    const p = proofOf(v);
    p.list[1] = { ...p.list[1], characterName: p.list[1].characterName + 'x' };
    expect(fields(await verifyProof(p))).toContain('listHash');
  });

  it('a list out of canonical order, or of the wrong format', async () => {
    const p = proofOf(v);
    [p.list[0], p.list[1]] = [p.list[1], p.list[0]];
    const ms = await verifyProof(p);
    expect(ms[0]).toMatchObject({ field: 'list', entry: 1 });
    expect(fields(ms)).toContain('listHash');
    const q = proofOf(v);
    q.list[0] = { orderKey: q.list[0].orderKey.toUpperCase(), characterName: 'a\tb' };
    expect(fields(await verifyProof(q)).filter((f) => f === 'list')).toHaveLength(2);
  });

  it('another index, or another candidate name', async () => {
    const p = proofOf(v);
    const wrong = ((v.index ?? 0) + 1) % v.list.length;
    const ms = await verifyProof({ ...p, index: wrong });
    expect(ms).toEqual([expect.objectContaining({ field: 'index', published: String(wrong), recomputed: String(v.index) })]);
    expect(fields(await verifyProof({ ...p, index: null }))).toEqual(['index']);
    expect(fields(await verifyProof({ ...p, candidateCharacterName: 'Someone' }))).toEqual(['candidateCharacterName']);
  });

  it('another version is not checked further', async () => {
    expect(fields(await verifyProof({ ...proofOf(v), version: 'mgm-draw-v2', seed: 'x' }))).toEqual(['version']);
  });

  it('the proof of another cycle, or a name the roulette did not show', async () => {
    expect(fields(await checkProof(proofOf(v), { cycleId: other.cycleId }))).toEqual(['cycleId']);
    expect(fields(await checkProof(proofOf(v), { cycleId: v.cycleId.toUpperCase(), shownCandidate: 'Someone' }))).toEqual(['shownCandidate']);
  });
});

describe('reading the answer', () => {
  const v = vectors.draws.find((d) => d.list.length > 0)!;

  it('accepts a proof as served', () => {
    expect(readProof(JSON.parse(JSON.stringify(proofOf(v))))).toEqual(proofOf(v));
  });

  it.each([
    ['null', null],
    ['a list that is not an array', { ...proofOf(v), list: {} }],
    ['an entry without a name', { ...proofOf(v), list: [{ orderKey: 'ab' }] }],
    ['a fractional index', { ...proofOf(v), index: 0.5 }],
    ['a missing seed', { ...proofOf(v), seed: undefined }],
  ])('refuses %s', (_, x) => {
    expect(readProof(x)).toBeNull();
  });
});
