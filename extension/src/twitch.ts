// The Twitch extension helper (window.Twitch.ext), typed as far as the panel
// uses it, and tolerant of it being absent (blocked, offline, dev page).

export interface TwitchAuth {
  channelId: string;
  clientId: string;
  token: string;
  /** The opaque id (U… logged in, A… logged out). */
  userId: string;
  helixToken?: string;
}

/** The part of Twitch.ext.onContext's context the panel reads. */
export interface TwitchContext {
  theme?: 'light' | 'dark' | string;
  language?: string;
  mode?: string;
}

export interface TwitchExt {
  onAuthorized(cb: (auth: TwitchAuth) => void): void;
  onVisibilityChanged?(cb: (isVisible: boolean, context: unknown) => void): void;
  onContext?(cb: (context: TwitchContext, changed: string[]) => void): void;
  onError?(cb: (err: unknown) => void): void;
  /** Extension PubSub: target "broadcast" carries the EBS's pushed state. */
  listen?(target: string, cb: (target: string, contentType: string, message: string) => void): void;
  actions?: { requestIdShare?(): void };
  viewer?: { id: string | null; opaqueId: string; isLinked: boolean; role: string };
  /** Set only by the EBS's development page: the EBS that serves it. */
  mgmDevEbsUrl?: string;
}

declare global {
  interface Window {
    Twitch?: { ext?: TwitchExt };
  }
}

export function twitchExt(): TwitchExt | null {
  const ext = typeof window !== 'undefined' ? window.Twitch?.ext : undefined;
  return ext && typeof ext.onAuthorized === 'function' ? ext : null;
}

/** What the panel needs from the extension JWT's claims. */
export interface Identity {
  /** The real Twitch user id; null when the viewer has not shared identity. */
  userId: string | null;
  opaqueUserId: string | null;
  channelId: string | null;
  role: string | null;
}

function base64UrlDecode(s: string): string {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4);
  const bin = atob(b64);
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** Reads (without verifying — the EBS does that) the claims of an extension JWT. */
export function identityFromToken(token: string | null | undefined): Identity {
  const none: Identity = { userId: null, opaqueUserId: null, channelId: null, role: null };
  if (!token) return none;
  const parts = token.split('.');
  if (parts.length < 2) return none;
  try {
    const c = JSON.parse(base64UrlDecode(parts[1])) as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null);
    return {
      userId: str(c.user_id) ?? str(c.sub),
      opaqueUserId: str(c.opaque_user_id),
      channelId: str(c.channel_id),
      role: str(c.role),
    };
  } catch {
    return none;
  }
}
