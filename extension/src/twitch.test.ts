import { describe, expect, it } from 'vitest';
import { identityFromToken } from './twitch';

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (claims: unknown) => `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}.sig`;

describe('identity from the extension JWT', () => {
  it('reads user_id when the viewer shared identity', () => {
    expect(identityFromToken(jwt({ user_id: '42', opaque_user_id: 'U42', channel_id: 'b1', role: 'viewer' }))).toEqual({
      userId: '42',
      opaqueUserId: 'U42',
      channelId: 'b1',
      role: 'viewer',
    });
  });

  it('has no user id for opaque viewers', () => {
    const id = identityFromToken(jwt({ opaque_user_id: 'Uabc', channel_id: 'b1', role: 'viewer' }));
    expect(id.userId).toBeNull();
    expect(id.opaqueUserId).toBe('Uabc');
  });

  it('survives garbage', () => {
    expect(identityFromToken('nope').userId).toBeNull();
    expect(identityFromToken('a.%%%.c').userId).toBeNull();
    expect(identityFromToken(null).userId).toBeNull();
  });
});
