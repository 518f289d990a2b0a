// The EBS client: one fetch per call, each with its own timeout and abort
// signal, answers turned into values (never thrown) so that one failing call
// cannot take the others down.

import type { ErrorBody } from './types';

export type ErrorKind = 'http' | 'network' | 'timeout' | 'aborted';

export interface ApiError {
  kind: ErrorKind;
  /** HTTP status; 0 when there was no response. */
  status: number;
  /** The EBS error code, or one synthesised from the status / failure kind. */
  code: string;
  message: string;
  /** From Retry-After, when the server sent one. */
  retryAfterMs: number | null;
}

interface Timing {
  /** Date.now() just before the request was sent. */
  sentAt: number;
  /** Date.now() when the answer (or failure) arrived. */
  receivedAt: number;
}

export type ApiResult<T> = ({ ok: true; status: number; data: T } | { ok: false; error: ApiError }) & Timing;

export const DEFAULT_TIMEOUT_MS = 8000;

/** Retry-After as milliseconds: delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | null {
  if (value == null) return null;
  const v = value.trim();
  if (v === '') return null;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}

function isErrorBody(b: unknown): b is ErrorBody {
  return typeof b === 'object' && b !== null && typeof (b as ErrorBody).code === 'string' && (b as ErrorBody).code !== '';
}

function codeForStatus(status: number): string {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'unavailable';
  return 'http_' + status;
}

/** Builds the ApiError of a non-2xx answer from its status, body and Retry-After. */
export function errorFromResponse(status: number, body: unknown, retryAfter: string | null, nowMs: number): ApiError {
  const eb = isErrorBody(body) ? body : null;
  return {
    kind: 'http',
    status,
    code: eb ? eb.code : codeForStatus(status),
    message: eb && typeof eb.message === 'string' ? eb.message : '',
    retryAfterMs: parseRetryAfter(retryAfter, nowMs),
  };
}

export interface RequestOptions {
  body?: unknown;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ApiClientOptions {
  baseUrl: string;
  getToken: () => string | null;
  /** Extra request headers, asked for on every call (e.g. X-Mgm-Push-Seq once a push arrived). */
  headers?: () => Record<string, string>;
  fetch?: typeof fetch;
  now?: () => number;
  timeoutMs?: number;
}

export class ApiClient {
  private readonly baseUrl: string;
  private readonly getToken: () => string | null;
  private readonly extraHeaders: () => Record<string, string>;
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;
  private readonly timeoutMs: number;

  constructor(o: ApiClientOptions) {
    this.baseUrl = o.baseUrl.replace(/\/+$/, '');
    this.getToken = o.getToken;
    this.extraHeaders = o.headers ?? (() => ({}));
    this.fetchFn = o.fetch ?? ((input, init) => fetch(input, init));
    this.now = o.now ?? Date.now;
    this.timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  get<T>(path: string, o: RequestOptions = {}): Promise<ApiResult<T>> {
    return this.request<T>('GET', path, o);
  }

  post<T>(path: string, body: unknown, o: RequestOptions = {}): Promise<ApiResult<T>> {
    return this.request<T>('POST', path, { ...o, body });
  }

  delete<T>(path: string, o: RequestOptions = {}): Promise<ApiResult<T>> {
    return this.request<T>('DELETE', path, o);
  }

  async request<T>(method: string, path: string, o: RequestOptions = {}): Promise<ApiResult<T>> {
    const ctl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctl.abort();
    }, o.timeoutMs ?? this.timeoutMs);
    const onAbort = () => ctl.abort();
    if (o.signal) {
      if (o.signal.aborted) ctl.abort();
      else o.signal.addEventListener('abort', onAbort, { once: true });
    }
    const headers: Record<string, string> = { ...this.extraHeaders(), Accept: 'application/json' };
    const token = this.getToken();
    if (token) headers.Authorization = 'Bearer ' + token;
    let payload: string | undefined;
    if (o.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(o.body);
    }
    const sentAt = this.now();
    try {
      const res = await this.fetchFn(this.baseUrl + path, {
        method,
        headers,
        body: payload,
        signal: ctl.signal,
        credentials: 'omit',
        // No `cache: 'no-store'`: Chromium then skips its CORS preflight cache
        // and sends an OPTIONS before every call. The EBS's Cache-Control
        // already keeps answers fresh.
      });
      const text = await res.text();
      const receivedAt = this.now();
      let body: unknown = null;
      if (text !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          body = null;
        }
      }
      if (res.ok) return { ok: true, status: res.status, data: body as T, sentAt, receivedAt };
      return {
        ok: false,
        error: errorFromResponse(res.status, body, res.headers.get('Retry-After'), receivedAt),
        sentAt,
        receivedAt,
      };
    } catch (e) {
      const receivedAt = this.now();
      const aborted = ctl.signal.aborted;
      const kind: ErrorKind = timedOut ? 'timeout' : aborted ? 'aborted' : 'network';
      const code = kind === 'timeout' ? 'timeout' : kind === 'aborted' ? 'aborted' : 'network';
      const message = e instanceof Error ? e.message : String(e);
      return { ok: false, error: { kind, status: 0, code, message, retryAfterMs: null }, sentAt, receivedAt };
    } finally {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
    }
  }
}
