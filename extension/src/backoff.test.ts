import { describe, expect, it } from 'vitest';
import type { ApiError } from './api';
import { BACKOFF_MAX_MS, failureDelay, isRetryable, nextBackoff, RETRY_AFTER_CAP_MS } from './backoff';

const err = (p: Partial<ApiError>): ApiError => ({
  kind: 'http',
  status: 500,
  code: 'internal',
  message: '',
  retryAfterMs: null,
  ...p,
});
const zero = () => 0;

describe('backoff', () => {
  it('starts at 3 s and doubles to 60 s', () => {
    const seq: number[] = [];
    let b: number | null = null;
    for (let i = 0; i < 8; i++) seq.push((b = nextBackoff(b)));
    expect(seq).toEqual([3000, 6000, 12000, 24000, 48000, 60000, 60000, 60000]);
  });

  it('retries 429, 5xx, network and timeouts soon; other errors wait the maximum', () => {
    expect(isRetryable(err({ status: 429, code: 'rate_limited' }))).toBe(true);
    expect(isRetryable(err({ status: 503 }))).toBe(true);
    expect(isRetryable(err({ kind: 'network', status: 0 }))).toBe(true);
    expect(isRetryable(err({ kind: 'timeout', status: 0 }))).toBe(true);
    expect(isRetryable(err({ status: 401, code: 'unauthorized' }))).toBe(false);
    expect(isRetryable(err({ status: 403, code: 'wrong_channel' }))).toBe(false);
    expect(failureDelay(err({ status: 404, code: 'not_found' }), null, zero)).toEqual({
      backoffMs: BACKOFF_MAX_MS,
      delayMs: BACKOFF_MAX_MS,
    });
  });

  it('adds up to 20 % so that viewers spread out', () => {
    expect(failureDelay(err({ status: 502 }), null, zero).delayMs).toBe(3000);
    expect(failureDelay(err({ status: 502 }), null, () => 0.999).delayMs).toBeLessThanOrEqual(3600);
    expect(failureDelay(err({ status: 502 }), 6000, zero)).toEqual({ backoffMs: 12000, delayMs: 12000 });
  });

  it('honours Retry-After as a floor', () => {
    const r = failureDelay(err({ status: 429, code: 'rate_limited', retryAfterMs: 17_000 }), null, zero);
    expect(r).toEqual({ backoffMs: 3000, delayMs: 17_000 });
    // A shorter Retry-After does not shorten the backoff.
    expect(failureDelay(err({ status: 429, retryAfterMs: 1000 }), 24_000, zero).delayMs).toBe(48_000);
    // Absurd values are capped.
    expect(failureDelay(err({ status: 503, retryAfterMs: 86_400_000 }), null, zero).delayMs).toBe(RETRY_AFTER_CAP_MS);
  });
});
