// The panel's verifier of mgm-draw-v1 draw proofs, the twin of the EBS's
// internal/drawproof (whose doc comment specifies the scheme). It trusts
// nothing the EBS says: everything is recomputed here with WebCrypto, and the
// answer is the list of what differs, with the Go Verify's field names, so
// the panel, mgm-sim verify-draw and the EBS's own tests speak of the same
// things. Both verifiers must reproduce internal/drawproof/testdata/vectors.json.

export const VERSION = 'mgm-draw-v1';

export interface DrawEntry {
  orderKey: string;
  characterName: string;
}

/** GET /api/roulette/cycles/{id}/proof. */
export interface DrawProof {
  version: string;
  cycleId: string;
  commitment: string;
  seed: string;
  /** In canonical order (ascending orderKey, then name, byte by byte). */
  list: DrawEntry[];
  listHash: string;
  /** null for an empty list. */
  index: number | null;
  candidateCharacterName: string | null;
}

export interface Mismatch {
  /**
   * version, seed, commitment, savedCommitment, list, listHash, index,
   * candidateCharacterName (drawproof.Verify); cycleId (verifydraw.Check);
   * shownCandidate: the panel's own, the name the roulette showed.
   */
  field: string;
  /** What the proof (or what the panel saw) says; '' when it does not apply. */
  published: string;
  /** What follows from the rest; '' when it does not apply. */
  recomputed: string;
  /** For list mismatches: the entry (counting from 0) at fault, and what is wrong with it. */
  entry?: number;
  problem?: 'orderKey' | 'name' | 'order';
  detail: string;
}

const enc = new TextEncoder();

function hex(b: ArrayBuffer | Uint8Array): string {
  return Array.from(b instanceof Uint8Array ? b : new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('');
}

function unhex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  // Absent outside a secure context (plain http on a LAN address).
  if (!s) throw new Error('WebCrypto is not available here');
  return s;
}

export function hasWebCrypto(): boolean {
  return globalThis.crypto?.subtle != null;
}

async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle().digest('SHA-256', data as BufferSource));
}

/** A published seed: 64 lowercase hex digits (drawproof.ParseSeed). */
export function parseSeed(h: string): Uint8Array | null {
  return /^[0-9a-f]{64}$/.test(h) ? unhex(h) : null;
}

/** hex(SHA-256(seed)), what is published before the draw. */
export async function commitment(seed: Uint8Array): Promise<string> {
  return hex(await sha256(seed));
}

/** The opaque key that places a viewer in the canonical order (drawproof.OrderKey). */
export async function orderKey(twitchUserId: string): Promise<string> {
  return hex((await sha256(enc.encode('mgm-order-v1:' + twitchUserId))).subarray(0, 16));
}

export function validOrderKey(k: string): boolean {
  return /^[0-9a-f]{32}$/.test(k);
}

/**
 * Byte-wise order of the UTF-8 encodings, as Go's strings.Compare: JavaScript's
 * own < compares UTF-16 code units, which orders some characters differently.
 */
function compareBytes(a: string, b: string): number {
  if (a === b) return 0;
  const x = enc.encode(a);
  const y = enc.encode(b);
  for (let i = 0; i < x.length && i < y.length; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** The canonical order: by order key, then by name (drawproof.Compare). */
export function compareEntries(a: DrawEntry, b: DrawEntry): number {
  return compareBytes(a.orderKey, b.orderKey) || compareBytes(a.characterName, b.characterName);
}

/** SHA-256 of orderKey "\t" characterName "\n" for each entry, in the order given. */
export async function listHash(list: readonly DrawEntry[]): Promise<Uint8Array> {
  return sha256(enc.encode(list.map((e) => `${e.orderKey}\t${e.characterName}\n`).join('')));
}

const TWO_64 = 1n << 64n;
const MAX_COUNTER = 0xffffffff;

/**
 * Step 4: the index in [0, n) by rejection sampling over
 * HMAC-SHA256(seed, cycleId ‖ 0x00 ‖ listHash ‖ uint32be(c)). n is a BigInt
 * because the test vectors exercise the loop with n near 2^64.
 */
export async function drawIndex(seed: Uint8Array, cycleId: string, hash: Uint8Array, n: bigint): Promise<{ index: bigint; counter: number }> {
  if (n < 1n || n > TWO_64 - 1n) throw new RangeError('n must be in [1, 2^64)');
  const key = await subtle().importKey('raw', seed as BufferSource, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const id = enc.encode(cycleId);
  const msg = new Uint8Array(id.length + 1 + hash.length + 4);
  msg.set(id, 0);
  msg.set(hash, id.length + 1);
  const counterAt = msg.length - 4;
  const view = new DataView(msg.buffer);
  // Accepting only below the largest multiple of n keeps every index equally likely.
  const limit = TWO_64 - (TWO_64 % n);
  for (let c = 0; c <= MAX_COUNTER; c++) {
    view.setUint32(counterAt, c, false);
    const h = new DataView(await subtle().sign('HMAC', key, msg));
    const x = h.getBigUint64(0, false);
    if (x < limit) return { index: x % n, counter: c };
  }
  // Each try is accepted with probability above 1/2: 2^32 misses do not happen.
  throw new Error('no counter accepted');
}

/** The whole draw over a list already in canonical order (drawproof.Draw); index -1 for an empty list. */
export async function draw(seed: Uint8Array, cycleId: string, list: readonly DrawEntry[]): Promise<{ listHash: Uint8Array; index: number; counter: number }> {
  const h = await listHash(list);
  if (list.length === 0) return { listHash: h, index: -1, counter: 0 };
  const r = await drawIndex(seed, cycleId, h, BigInt(list.length));
  return { listHash: h, index: Number(r.index), counter: r.counter };
}

const isStr = (v: unknown): v is string => typeof v === 'string';

/** The proof if x has its shape (what Go's json.Unmarshal into drawproof.Proof would accept), else null. */
export function readProof(x: unknown): DrawProof | null {
  if (typeof x !== 'object' || x === null) return null;
  const p = x as Record<string, unknown>;
  if (![p.version, p.cycleId, p.commitment, p.seed, p.listHash].every(isStr)) return null;
  if (!Array.isArray(p.list)) return null;
  const list: DrawEntry[] = [];
  for (const e of p.list as unknown[]) {
    if (typeof e !== 'object' || e === null) return null;
    const { orderKey: k, characterName: n } = e as Record<string, unknown>;
    if (!isStr(k) || !isStr(n)) return null;
    list.push({ orderKey: k, characterName: n });
  }
  const index = p.index ?? null;
  if (index !== null && !(typeof index === 'number' && Number.isInteger(index))) return null;
  const name = p.candidateCharacterName ?? null;
  if (name !== null && !isStr(name)) return null;
  return {
    version: p.version as string,
    cycleId: p.cycleId as string,
    commitment: p.commitment as string,
    seed: p.seed as string,
    list,
    listHash: p.listHash as string,
    index,
    candidateCharacterName: name,
  };
}

/**
 * Recomputes everything a proof claims and returns what differs (drawproof.Verify);
 * none means the draw checks out. saved: the commitment the panel saw before
 * the draw ('' if none), which must match the revealed seed as well.
 */
export async function verifyProof(p: DrawProof, saved = ''): Promise<Mismatch[]> {
  const out: Mismatch[] = [];
  if (p.version !== VERSION) {
    return [{ field: 'version', published: p.version, recomputed: VERSION, detail: `this verifier checks ${VERSION} proofs only` }];
  }
  const seed = parseSeed(p.seed);
  if (!seed) return [{ field: 'seed', published: p.seed, recomputed: '', detail: 'the seed is not 64 lowercase hex digits' }];
  const c = await commitment(seed);
  if (p.commitment !== c) {
    out.push({ field: 'commitment', published: p.commitment, recomputed: c, detail: 'SHA-256 of the revealed seed is not the published commitment' });
  }
  if (saved !== '' && saved.toLowerCase() !== c) {
    out.push({ field: 'savedCommitment', published: saved, recomputed: c, detail: 'SHA-256 of the revealed seed is not the commitment saved before the draw' });
  }
  p.list.forEach((e, i) => {
    if (!validOrderKey(e.orderKey)) {
      out.push({ field: 'list', published: e.orderKey, recomputed: '', entry: i, problem: 'orderKey', detail: `entry ${i} has an order key that is not 32 lowercase hex digits` });
    }
    if (e.characterName === '' || /[\t\n]/.test(e.characterName)) {
      out.push({ field: 'list', published: e.characterName, recomputed: '', entry: i, problem: 'name', detail: `entry ${i} has an empty name or one holding a tab or newline` });
    }
    if (i > 0 && compareEntries(p.list[i - 1], e) >= 0) {
      out.push({
        field: 'list',
        published: '',
        recomputed: '',
        entry: i,
        problem: 'order',
        detail: `entries ${i - 1} and ${i} are not in canonical order (ascending orderKey, then name)`,
      });
    }
  });
  const r = await draw(seed, p.cycleId, p.list);
  const h = hex(r.listHash);
  if (p.listHash !== h) {
    out.push({ field: 'listHash', published: p.listHash, recomputed: h, detail: 'SHA-256 of the published list is not the published list hash' });
  }
  const published = p.index == null ? '' : String(p.index);
  const recomputed = r.index >= 0 ? String(r.index) : '';
  if (published !== recomputed) {
    out.push({ field: 'index', published, recomputed, detail: 'the seed, cycle id and list give another index' });
  }
  const name = p.candidateCharacterName ?? '';
  const want = p.list[r.index]?.characterName ?? '';
  if (name !== want) {
    out.push({ field: 'candidateCharacterName', published: name, recomputed: want, detail: 'the drawn entry has another name' });
  }
  return out;
}

export interface CheckOptions {
  /** The cycle the panel asked for: a proof of another cycle would verify on its own. */
  cycleId: string;
  /** The commitment the panel saw before the draw ('' if none). */
  saved?: string;
  /** The candidate the roulette showed for this cycle (null: none shown, nothing to compare). */
  shownCandidate?: string | null;
}

/** verifyProof, plus what only the panel knows: the cycle it asked for and the name it showed (verifydraw.Check). */
export async function checkProof(p: DrawProof, o: CheckOptions): Promise<Mismatch[]> {
  const out: Mismatch[] = [];
  if (p.cycleId.toLowerCase() !== o.cycleId.toLowerCase()) {
    out.push({ field: 'cycleId', published: p.cycleId, recomputed: o.cycleId, detail: 'the proof is of another cycle than the one asked for' });
  }
  const ms = await verifyProof(p, o.saved ?? '');
  out.push(...ms);
  // Only a proof that holds together says which name was drawn.
  if (ms.length === 0 && o.shownCandidate != null && o.shownCandidate !== (p.candidateCharacterName ?? '')) {
    out.push({
      field: 'shownCandidate',
      published: o.shownCandidate,
      recomputed: p.candidateCharacterName ?? '',
      detail: 'the roulette showed another candidate than the proof draws',
    });
  }
  return out;
}

/** Where the viewer's own entry is in the list (counting from 0), or -1. */
export async function findOwnEntry(list: readonly DrawEntry[], twitchUserId: string): Promise<number> {
  const k = await orderKey(twitchUserId);
  return list.findIndex((e) => e.orderKey === k);
}
