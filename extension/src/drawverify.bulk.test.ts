import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitment, compareEntries, draw, type DrawEntry, orderKey, verifyProof } from './drawverify';

// The EBS's bulk check (internal/drawproof/bulk_test.go): 10,000 draws from a
// generator written the same way here, summed up in one digest that this
// verifier must reproduce. One different list hash or index among the 10,000
// changes it.
const bulk = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../internal/drawproof/testdata/bulk.json'), 'utf8')) as {
  count: number;
  digest: string;
};

const enc = new TextEncoder();
const hex = (b: ArrayBuffer | Uint8Array) => Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString('hex');
const sha = async (s: string) => new Uint8Array(await crypto.subtle.digest('SHA-256', enc.encode(s)));

async function bulkDraw(i: number): Promise<{ seed: Uint8Array; cycleId: string; list: DrawEntry[] }> {
  const seed = await sha(`mgm-draw-v1 bulk seed ${i}`);
  const h = hex((await sha(`mgm-draw-v1 bulk cycle ${i}`)).slice(0, 16));
  const cycleId = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  const n = 1 + (i % 40);
  const list: DrawEntry[] = [];
  for (let j = 0; j < n; j++) {
    list.push({
      orderKey: await orderKey(String(100000 + 40 * i + j)),
      characterName: 'Bulk' + String.fromCharCode(97 + Math.floor(j / 26)) + String.fromCharCode(97 + (j % 26)),
    });
  }
  list.sort(compareEntries);
  return { seed, cycleId, list };
}

describe('the bulk check shared with the EBS', () => {
  it(
    `reproduces all ${bulk.count} draws' digest, and each proof verifies`,
    async () => {
      let lines = '';
      for (let i = 0; i < bulk.count; i++) {
        const { seed, cycleId, list } = await bulkDraw(i);
        const r = await draw(seed, cycleId, list);
        lines += `${hex(r.listHash)}:${r.index}\n`;
        if (i % 997 === 0) {
          // A sample goes through the whole proof check too (the loop above is the draw itself).
          const mismatches = await verifyProof({
            version: 'mgm-draw-v1',
            cycleId,
            commitment: await commitment(seed),
            seed: hex(seed),
            list,
            listHash: hex(r.listHash),
            index: r.index,
            candidateCharacterName: list[r.index].characterName,
          });
          expect(mismatches).toEqual([]);
        }
      }
      expect(hex(await sha(lines))).toBe(bulk.digest);
    },
    120_000,
  );
});
