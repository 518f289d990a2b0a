import { describe, expect, it } from 'vitest';
import { friendlyError } from './errors';
import { strings } from './i18n';

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
    ['banned', 'You can’t join this giveaway'],
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

describe('error mapping in Russian', () => {
  it('has Russian copy for the codes, including the unserved channel', () => {
    const ru = strings('ru');
    expect(friendlyError({ code: 'character_name_taken_in_pool' }, ru).title).toBe('Имя уже занято');
    expect(friendlyError({ code: 'wrong_channel' }, ru).title).toBe('Этот канал не обслуживается этим сервером Gold-o-Matic');
    expect(friendlyError({ code: 'weird', status: 503 }, ru).title).toBe('Gold-o-Matic взял перерыв');
  });
});
