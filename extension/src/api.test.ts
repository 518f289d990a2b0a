import { describe, expect, it, vi } from 'vitest';
import { ApiClient, errorFromResponse, parseRetryAfter } from './api';

describe('api client', () => {
  it('parses Retry-After seconds and dates', () => {
    const now = Date.parse('2026-04-04T12:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Sat, 04 Apr 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });

  it('reads the standard error body, or falls back to the status', () => {
    expect(errorFromResponse(409, { code: 'lifetime_cap_reached', message: 'cap', details: {} }, null, 0)).toMatchObject({
      kind: 'http',
      status: 409,
      code: 'lifetime_cap_reached',
      message: 'cap',
    });
    expect(errorFromResponse(429, null, '3', 0)).toMatchObject({ code: 'rate_limited', retryAfterMs: 3000 });
    expect(errorFromResponse(502, '<html>', null, 0).code).toBe('unavailable');
    expect(errorFromResponse(401, {}, null, 0).code).toBe('unauthorized');
  });

  it('sends the current token and JSON, and never throws', async () => {
    let token = 'jwt-1';
    const seen: { url: string; init: RequestInit }[] = [];
    const fetchFn = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
      seen.push({ url: String(url), init: init! });
      return new Response(JSON.stringify({ isEnrolled: true, characterName: 'Norinn' }), { status: 200 });
    });
    const api = new ApiClient({ baseUrl: 'http://ebs.test/', getToken: () => token, fetch: fetchFn as typeof fetch });
    const r = await api.get<{ isEnrolled: boolean }>('/api/pool/me');
    expect(r.ok && r.data.isEnrolled).toBe(true);
    expect(seen[0].url).toBe('http://ebs.test/api/pool/me');
    expect((seen[0].init.headers as Record<string, string>).Authorization).toBe('Bearer jwt-1');
    expect((seen[0].init.headers as Record<string, string>)['Content-Type']).toBeUndefined();
    token = 'jwt-2'; // a refreshed token is picked up by the next call
    await api.post('/api/payouts/claim', { characterName: 'Norinn' });
    expect((seen[1].init.headers as Record<string, string>).Authorization).toBe('Bearer jwt-2');
    expect((seen[1].init.headers as Record<string, string>)['Content-Type']).toBe('application/json');
    expect(seen[1].init.body).toBe('{"characterName":"Norinn"}');
  });

  it('maps network failures, timeouts and HTTP errors to values', async () => {
    const failing = new ApiClient({
      baseUrl: 'http://ebs.test',
      getToken: () => null,
      fetch: (async () => {
        throw new TypeError('Failed to fetch');
      }) as typeof fetch,
    });
    const n = await failing.get('/api/roulette/state');
    expect(!n.ok && n.error).toMatchObject({ kind: 'network', code: 'network', status: 0 });

    const hanging = new ApiClient({
      baseUrl: 'http://ebs.test',
      getToken: () => null,
      timeoutMs: 20,
      fetch: ((_u: unknown, init?: RequestInit) =>
        new Promise((_, reject) => {
          init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        })) as typeof fetch,
    });
    const t = await hanging.get('/api/roulette/state');
    expect(!t.ok && t.error.kind).toBe('timeout');

    const ctl = new AbortController();
    const p = hanging.get('/api/roulette/state', { signal: ctl.signal, timeoutMs: 5000 });
    ctl.abort();
    const a = await p;
    expect(!a.ok && a.error.kind).toBe('aborted');

    const limited = new ApiClient({
      baseUrl: 'http://ebs.test',
      getToken: () => 't',
      fetch: (async () =>
        new Response('{"code":"rate_limited","message":"Too many requests","details":{}}', {
          status: 429,
          headers: { 'Retry-After': '12' },
        })) as typeof fetch,
    });
    const l = await limited.get('/api/pool/me');
    expect(!l.ok && l.error).toMatchObject({ kind: 'http', status: 429, code: 'rate_limited', retryAfterMs: 12_000 });
  });

  it('records when the request was sent and answered (for the clock offset)', async () => {
    let t = 1000;
    const api = new ApiClient({
      baseUrl: 'http://ebs.test',
      getToken: () => null,
      now: () => (t += 100),
      fetch: (async () => new Response('{}', { status: 200 })) as typeof fetch,
    });
    const r = await api.get('/api/roulette/state');
    expect(r.receivedAt - r.sentAt).toBe(100);
  });

  it('keeps the browser preflight cache usable (no cache: no-store) and sends the push seq header it is given', async () => {
    const seen: RequestInit[] = [];
    const fetchFn = vi.fn(async (_url: string | URL | Request, init?: RequestInit) => {
      seen.push(init!);
      return new Response(null, { status: 204 });
    });
    let seq: number | null = null;
    const api = new ApiClient({
      baseUrl: 'http://ebs.test',
      getToken: () => 'jwt',
      headers: (): Record<string, string> => (seq != null ? { 'X-Mgm-Push-Seq': String(seq) } : {}),
      fetch: fetchFn as typeof fetch,
    });
    await api.get('/api/roulette/state');
    seq = 12;
    const r = await api.delete('/api/pool/me');
    expect(r.ok && r.status).toBe(204);
    expect(seen[0].cache).toBeUndefined();
    expect((seen[0].headers as Record<string, string>)['X-Mgm-Push-Seq']).toBeUndefined();
    expect(seen[1].method).toBe('DELETE');
    expect((seen[1].headers as Record<string, string>)['X-Mgm-Push-Seq']).toBe('12');
  });
});
