import { describe, expect, it } from 'vitest';
import { friendlyError } from './errors';

describe('error mapping', () => {
  it.each([
    ['invalid_character_name', 'Check the character name'],
    ['lifetime_cap_reached', 'Lifetime cap reached'],
    ['active_payout_exists', 'You already have a win in progress'],
    ['not_subscriber', 'Subscribers only'],
    ['character_name_taken_in_pool', 'Name already taken'],
    ['unauthorized', 'Session expired'],
    ['rate_limited', 'Slowing down a little'],
    ['network', "Can't reach the Gold-o-Matic"],
    ['timeout', 'The Gold-o-Matic is slow to answer'],
    ['identity_not_shared', 'Share your identity'],
  ])('%s → %s', (code, title) => {
    const f = friendlyError({ code, message: 'raw server text' });
    expect(f.title).toBe(title);
    expect(f.body).not.toContain('raw server text');
    expect(f.body.length).toBeGreaterThan(10);
  });

  it('explains the name rules for invalid names', () => {
    expect(friendlyError({ code: 'invalid_character_name' }).body).toContain('2–12 letters, Latin or Cyrillic');
  });

  it('treats unknown 5xx codes as the server being unavailable', () => {
    expect(friendlyError({ code: 'weird', status: 502 }).title).toBe('The Gold-o-Matic is taking a break');
  });

  it("shows the server's message for unknown codes, else a generic line", () => {
    expect(friendlyError({ code: 'brand_new', status: 409, message: 'Try later.' })).toEqual({
      title: 'Something went wrong',
      body: 'Try later.',
    });
    expect(friendlyError({ code: 'brand_new', status: 409 }).body).toBe('Please try again in a moment.');
    expect(friendlyError(null).title).toBe('Something went wrong');
  });
});
