// "Verify this draw": the commitments the panel saw before each draw, the
// check of a decided cycle's proof, and what the viewer reads about it.
// Pure but for the fetch and WebCrypto it is handed.

import type { ApiResult } from './api';
import { checkProof, findOwnEntry, hasWebCrypto, type Mismatch, readProof } from './drawverify';
import { friendlyError } from './errors';
import type { Strings } from './i18n';
import type { RouletteState } from './types';

// ---------------------------------------------------------------- commitments seen

type KeyValueStore = Pick<Storage, 'getItem' | 'setItem'>;

const STORE_KEY = 'mgm-draw-commitments';

/**
 * The drawCommitment of each cycle as the panel saw it before the cycle's
 * draw. Only a commitment seen before the seed was revealed proves anything,
 * so the first one seen is kept and a later one never replaces it. Kept in
 * sessionStorage too, so a reload after the draw still has it.
 */
export class CommitmentMemory {
  private seen = new Map<string, string>();

  constructor(
    private readonly store: KeyValueStore | null = null,
    private readonly max = 20,
  ) {
    try {
      const saved = JSON.parse(store?.getItem(STORE_KEY) ?? '[]') as unknown;
      if (Array.isArray(saved)) {
        for (const e of saved) if (Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'string') this.seen.set(e[0], e[1]);
      }
    } catch {
      // Unreadable or unavailable: start empty.
    }
  }

  /** Notes the current cycle's commitment while its draw is still ahead. */
  see(s: RouletteState): void {
    const id = s.currentSpinCycleId;
    const c = s.drawCommitment;
    if (!id || !c || this.seen.has(id)) return;
    if (s.spinPhase !== 'idle' && s.spinPhase !== 'collecting') return;
    if (s.lastCycle?.spinCycleId === id) return;
    this.seen.set(id, c);
    while (this.seen.size > this.max) this.seen.delete(this.seen.keys().next().value as string);
    try {
      this.store?.setItem(STORE_KEY, JSON.stringify([...this.seen]));
    } catch {
      // Storage full or refused: memory still holds it for this page.
    }
  }

  /** The commitment seen before the cycle's draw, or ''. */
  saved(cycleId: string): string {
    return this.seen.get(cycleId) ?? '';
  }
}

// ---------------------------------------------------------------- the check

export type VerifyOutcome =
  | {
      kind: 'checked';
      mismatches: Mismatch[];
      entries: number;
      /** The drawn entry, counting from 0; null for an empty list. */
      index: number | null;
      name: string | null;
      won: boolean;
      /** A commitment seen before the draw was compared too. */
      savedChecked: boolean;
      /** The viewer's own entry (from 0): -1 absent; null when the panel does not know who they are. */
      own: number | null;
    }
  | { kind: 'error'; code: string; status: number; message: string };

export interface VerifyInput {
  cycleId: string;
  saved: string;
  /** The candidate the roulette showed for the cycle. */
  shownCandidate: string | null;
  won: boolean;
  /** The viewer's Twitch user id when identity is shared. */
  userId: string | null;
}

export function proofPath(cycleId: string): string {
  return `/api/roulette/cycles/${encodeURIComponent(cycleId)}/proof`;
}

/** Fetches a cycle's proof with get and checks it. */
export async function verifyDraw(get: (path: string) => Promise<ApiResult<unknown>>, o: VerifyInput): Promise<VerifyOutcome> {
  if (!hasWebCrypto()) return { kind: 'error', code: 'no_webcrypto', status: 0, message: '' };
  const r = await get(proofPath(o.cycleId));
  if (!r.ok) return { kind: 'error', code: r.error.code, status: r.error.status, message: r.error.message };
  const p = readProof(r.data);
  if (!p) return { kind: 'error', code: 'unreadable_proof', status: r.status, message: '' };
  const mismatches = await checkProof(p, { cycleId: o.cycleId, saved: o.saved, shownCandidate: o.shownCandidate });
  return {
    kind: 'checked',
    mismatches,
    entries: p.list.length,
    index: p.index,
    name: p.candidateCharacterName,
    won: o.won,
    savedChecked: o.saved !== '',
    own: o.userId ? await findOwnEntry(p.list, o.userId) : null,
  };
}

// ---------------------------------------------------------------- the words

export interface VerifyText {
  ok: boolean;
  head: string;
  /** What differs, one line each. */
  diffs: string[];
  you: string | null;
}

/** Most lists are shown whole; a broken list of thousands is not. */
const MAX_DIFFS = 6;

/** A hash is recognisable by its first digits; the panel is 318 px wide. */
const short = (v: string) => (/^[0-9a-fA-F]{40,}$/.test(v) ? v.slice(0, 16) + '…' : v);
/** Indexes count from 1 for people, as the ✓ line does. */
const place = (v: string) => (v === '' ? '–' : String(Number(v) + 1));

function mismatchText(m: Mismatch, t: Strings): string {
  const p = short(m.published);
  const r = short(m.recomputed);
  switch (m.field) {
    case 'version':
      return t.vmVersion(m.published, m.recomputed);
    case 'seed':
      return t.vmSeed;
    case 'commitment':
      return t.vmCommitment(p, r);
    case 'savedCommitment':
      return t.vmSavedCommitment(p, r);
    case 'cycleId':
      return t.vmCycleId(m.published, m.recomputed);
    case 'list': {
      const i = (m.entry ?? 0) + 1;
      return m.problem === 'order' ? t.vmListOrder(i - 1, i) : m.problem === 'name' ? t.vmListName(i) : t.vmListKey(i);
    }
    case 'listHash':
      return t.vmListHash(p, r);
    case 'index':
      return t.vmIndex(place(m.published), place(m.recomputed));
    case 'candidateCharacterName':
      return t.vmCandidate(m.published || '–', m.recomputed || '–');
    case 'shownCandidate':
      return t.vmShown(m.published, m.recomputed || '–');
    default:
      return `${m.field}: ${m.detail}`;
  }
}

function errorText(o: Extract<VerifyOutcome, { kind: 'error' }>, t: Strings): string {
  switch (o.code) {
    case 'draw_not_revealed':
      return t.verifyNotRevealed;
    case 'no_draw_proof':
      return t.verifyNoProof;
    case 'draw_proof_expired':
      return t.verifyExpired;
    case 'unreadable_proof':
      return t.verifyUnreadable;
    case 'no_webcrypto':
      return t.verifyNoCrypto;
  }
  const f = friendlyError(o, t);
  // An unknown code has no words of its own here: the server's message says more than "something went wrong".
  return t.verifyLoadFailed(f.title === t.err_fallback && f.body !== t.err_fallback_body ? f.body : f.title);
}

export function verifyText(o: VerifyOutcome, t: Strings): VerifyText {
  if (o.kind === 'error') return { ok: false, head: errorText(o, t), diffs: [], you: null };
  const you = o.own == null ? null : o.own >= 0 ? t.verifyYouIn(o.own + 1) : t.verifyYouOut;
  if (o.mismatches.length > 0) {
    const diffs = o.mismatches.slice(0, MAX_DIFFS).map((m) => mismatchText(m, t));
    if (o.mismatches.length > MAX_DIFFS) diffs.push(t.vmMore(o.mismatches.length - MAX_DIFFS));
    return { ok: false, head: t.verifyBad, diffs, you };
  }
  const what =
    o.index == null || o.name == null
      ? t.verifyOkEmpty
      : (o.won ? t.verifyOkWinner : t.verifyOkDrawn)(o.entries, o.index + 1, o.name);
  return { ok: true, head: `${what}; ${o.savedChecked ? t.verifySeenMatched : t.verifyNotSeen}`, diffs: [], you };
}
