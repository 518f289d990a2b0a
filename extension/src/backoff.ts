// Failure handling for polled calls: exponential backoff from 3 s doubling to
// 60 s on errors worth retrying soon (429, 5xx, network, timeout), honouring
// Retry-After; everything else waits the maximum.

import type { ApiError } from './api';

export const BACKOFF_MIN_MS = 3000;
export const BACKOFF_MAX_MS = 60_000;
/** A Retry-After beyond this is treated as this (a broken proxy must not silence the panel for hours). */
export const RETRY_AFTER_CAP_MS = 10 * 60_000;

/** Errors that are worth retrying soon. */
export function isRetryable(e: ApiError): boolean {
  if (e.kind === 'network' || e.kind === 'timeout') return true;
  return e.status === 429 || e.status >= 500;
}

/** The next backoff step: 3 s, 6 s, 12 s, 24 s, 48 s, 60 s, 60 s, … */
export function nextBackoff(prevMs: number | null): number {
  if (prevMs == null || prevMs < BACKOFF_MIN_MS) return BACKOFF_MIN_MS;
  return Math.min(BACKOFF_MAX_MS, prevMs * 2);
}

export interface FailureDelay {
  /** The backoff step to remember for the next failure. */
  backoffMs: number;
  /** How long to wait before the next attempt. */
  delayMs: number;
}

/**
 * How long to wait after a failure. rand() in [0, 1) adds up to 20 % so that
 * viewers who failed together do not retry together; Retry-After is a floor.
 */
export function failureDelay(e: ApiError, prevBackoffMs: number | null, rand: () => number = Math.random): FailureDelay {
  const backoffMs = isRetryable(e) ? nextBackoff(prevBackoffMs) : BACKOFF_MAX_MS;
  let delayMs = backoffMs * (1 + 0.2 * rand());
  if (e.retryAfterMs != null) {
    delayMs = Math.max(delayMs, Math.min(e.retryAfterMs, RETRY_AFTER_CAP_MS));
  }
  return { backoffMs, delayMs: Math.round(delayMs) };
}
