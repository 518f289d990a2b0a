// Error code → what the viewer reads. Never the raw server text for the codes
// we know; the server's message only as the body of an unknown code.

export interface FriendlyError {
  title: string;
  body: string;
}

const COPY: Record<string, FriendlyError> = {
  invalid_character_name: {
    title: 'Check the character name',
    body: 'Names are 2–12 letters, Latin or Cyrillic only — no digits, spaces or symbols.',
  },
  lifetime_cap_reached: {
    title: 'Lifetime cap reached',
    body: 'You have already received the 10,000 g maximum on this channel. Thanks for playing!',
  },
  active_payout_exists: {
    title: 'You already have a win in progress',
    body: 'Finish collecting your current reward first — its status is shown in this panel.',
  },
  not_subscriber: {
    title: 'Subscribers only',
    body: 'Subscribe to the channel to join the roulette.',
  },
  character_name_taken_in_pool: {
    title: 'Name already taken',
    body: 'Another viewer is in the pool with that character name. Use your own character.',
  },
  duplicate_enrollment: {
    title: 'Please try again',
    body: 'That request was already used. Send it once more.',
  },
  unauthorized: {
    title: 'Session expired',
    body: 'Reload the stream page to sign in to the panel again.',
  },
  identity_not_shared: {
    title: 'Share your identity',
    body: 'Share your Twitch identity with this extension to see your own status.',
  },
  wrong_channel: {
    title: 'Wrong channel',
    body: 'This panel is set up for a different channel.',
  },
  rate_limited: {
    title: 'Slowing down a little',
    body: 'Too many requests right now — the panel retries by itself in a moment.',
  },
  network: {
    title: "Can't reach the Gold-o-Matic",
    body: 'Check your connection — the panel keeps trying.',
  },
  timeout: {
    title: 'The Gold-o-Matic is slow to answer',
    body: 'The panel keeps trying.',
  },
  unavailable: {
    title: 'The Gold-o-Matic is taking a break',
    body: 'The server could not answer right now; the panel tries again shortly.',
  },
  internal: {
    title: 'Something broke on our side',
    body: 'The panel tries again shortly.',
  },
  gift_already_used: {
    title: 'Gift already used',
    body: 'You have already received your one gift from this streamer.',
  },
  gift_request_active: {
    title: 'Gift already requested',
    body: 'You already have a gift request in the queue.',
  },
  not_found: {
    title: 'Not available',
    body: 'The server does not offer this yet.',
  },
  payload_too_large: {
    title: 'Too long',
    body: 'That was more than the server accepts.',
  },
};

const FALLBACK: FriendlyError = { title: 'Something went wrong', body: 'Please try again in a moment.' };

/** The friendly copy for an error code (and, for unknown codes, the server's own message). */
export function friendlyError(e: { code: string; status?: number; message?: string } | null | undefined): FriendlyError {
  if (!e) return FALLBACK;
  const known = COPY[e.code];
  if (known) return known;
  if (e.status != null && e.status >= 500) return COPY.unavailable;
  const msg = (e.message ?? '').trim();
  return msg ? { title: FALLBACK.title, body: msg } : FALLBACK;
}
