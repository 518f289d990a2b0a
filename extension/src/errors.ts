// Error code → what the viewer reads, in the panel's language. Never the raw
// server text for the codes we know; the server's message only as the body of
// an unknown code.

import { type Strings, strings } from './i18n';

export interface FriendlyError {
  title: string;
  body: string;
}

const KNOWN = [
  'invalid_character_name',
  'lifetime_cap_reached',
  'active_payout_exists',
  'not_subscriber',
  'character_name_taken_in_pool',
  'duplicate_enrollment',
  'unauthorized',
  'identity_not_shared',
  'wrong_channel',
  'rate_limited',
  'network',
  'timeout',
  'unavailable',
  'internal',
  'gift_already_used',
  'gift_request_active',
  'not_found',
  'payload_too_large',
  'banned',
] as const;

type Known = (typeof KNOWN)[number];

function copy(t: Strings, code: Known): FriendlyError {
  const title = t[`err_${code}`];
  const body = t[`err_${code}_body`];
  return { title, body };
}

/** The friendly copy for an error code (and, for unknown codes, the server's own message). */
export function friendlyError(e: { code: string; status?: number; message?: string } | null | undefined, t: Strings = strings('en')): FriendlyError {
  const fallback = { title: t.err_fallback, body: t.err_fallback_body };
  if (!e) return fallback;
  if ((KNOWN as readonly string[]).includes(e.code)) return copy(t, e.code as Known);
  if (e.status != null && e.status >= 500) return copy(t, 'unavailable');
  const msg = (e.message ?? '').trim();
  return msg ? { title: fallback.title, body: msg } : fallback;
}
