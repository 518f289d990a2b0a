// Plumbing for the end-to-end test: child processes that are always killed,
// steps that always end, HTTP calls with timeouts.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync as exists, readFileSync as readFile } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, request as httpRequest, type Server, type ServerResponse } from 'node:http';
import { createServer } from 'node:net';
import { extname, join as joinPath, normalize } from 'node:path';

const started = Date.now();

export function log(msg: string): void {
  const t = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  process.stdout.write(`[e2e ${t}s] ${msg}\n`);
}

/** Runs fn, failing with a clear message if it takes longer than ms. */
export async function step<T>(name: string, ms: number, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  log(`▶ ${name}`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const out = await Promise.race([
      fn(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`step "${name}" did not finish within ${ms / 1000} s`)), ms);
      }),
    ]);
    log(`✓ ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return out;
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls fn until it returns a truthy value. */
export async function waitFor<T>(what: string, timeoutMs: number, fn: () => Promise<T | null | undefined | false>, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
    }
    await sleep(everyMs);
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function run(cmd: string, args: string[], opts: { cwd: string; timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: opts.cwd, timeout: opts.timeoutMs, env: opts.env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

const children = new Set<ChildProcess>();

function killAllNow(): void {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}
process.on('exit', killAllNow);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    killAllNow();
    process.exit(130);
  });
}

export interface Service {
  name: string;
  proc: ChildProcess;
  /** The last lines it printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts a long-running child; it is killed when the test process exits, whatever happens. */
export function startService(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Service {
  const proc = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const l of chunk.toString('utf8').split('\n')) {
      if (l.trim() === '') continue;
      lines.push(l);
      if (lines.length > 60) lines.shift();
      if (process.env.MGM_E2E_VERBOSE) log(`[${name}] ${l}`);
    }
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  proc.on('exit', () => children.delete(proc));
  return {
    name,
    proc,
    output: () => lines.join('\n'),
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode != null || proc.signalCode != null) return resolve();
        const hard = setTimeout(() => proc.kill('SIGKILL'), 5000);
        proc.once('exit', () => {
          clearTimeout(hard);
          resolve();
        });
        proc.kill('SIGTERM');
      }),
  };
}

export interface HttpResult<T = unknown> {
  status: number;
  body: T;
  text: string;
}

/** fetch with a timeout and JSON both ways. */
export async function http<T = unknown>(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult<T>> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  return { status: res.status, body: parsed as T, text };
}

// ------------------------------------------------------------------ serving the panel as Twitch does


const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

function listen(srv: Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const a = srv.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    });
  });
}

export interface Hosted {
  origin: string;
  close(): Promise<void>;
}

function closeServer(srv: Server): Promise<void> {
  return new Promise((resolve) => {
    srv.closeAllConnections?.();
    srv.close(() => resolve());
  });
}

/**
 * Serves the built panel from an origin of its own (http://localhost:port),
 * as Twitch serves it from <client-id>.ext-twitch.tv while the EBS lives
 * elsewhere: every EBS call is cross-origin. Twitch's helper is replaced by
 * the development stand-in (helperFile). "/" is a page holding the panel in a
 * 318 × 500 frame named "panel", with the query passed on to it.
 */
export async function hostPanel(dist: string, helperFile: string): Promise<Hosted> {
  const helperTag = /<script[^>]*\bsrc="https:\/\/extension-files\.twitch\.tv\/helper\/[^"]*"[^>]*>\s*<\/script>/;
  const srv = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-cache' });
      res.end(body);
    };
    if (url.pathname === '/') {
      const src = '/panel.html' + url.search;
      return send(
        200,
        TYPES['.html'],
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>panel host</title>
<style>body{margin:0;background:#0e0e10}iframe{display:block;width:318px;height:500px;border:0}</style></head>
<body><iframe id="panel" name="panel" title="Extension panel" src="${src.replace(/"/g, '&quot;')}"></iframe></body></html>`,
      );
    }
    if (url.pathname === '/twitch-ext-dev.js') return send(200, TYPES['.js'], readFile(helperFile));
    const rel = normalize(url.pathname).replace(/^\/+/, '');
    const file = joinPath(dist, rel);
    if (rel.startsWith('..') || !exists(file) || !/\.(html|js|css|png|svg)$/.test(file)) return send(404, 'text/plain', 'not found');
    let body: string | Buffer = readFile(file);
    if (file.endsWith('.html')) body = body.toString('utf8').replace(helperTag, '<script src="./twitch-ext-dev.js"></script>');
    return send(200, TYPES[extname(file)] ?? 'application/octet-stream', body);
  });
  const port = await listen(srv, '127.0.0.1');
  // "localhost" and "127.0.0.1" are different origins (and sites) to the browser.
  return { origin: `http://localhost:${port}`, close: () => closeServer(srv) };
}

export interface SeenRequest {
  at: number;
  method: string;
  path: string;
  /** user_id (or opaque_user_id) of the JWT it carried; '' without one. */
  viewer: string;
  pushSeq: string | null;
}

export interface CountingProxy extends Hosted {
  seen: SeenRequest[];
  /** Preflight answers that lacked what the panel needs (X-Mgm-Push-Seq, DELETE, a 7200 s max-age). */
  corsProblems: string[];
  /** Rewrites the JSON body of the next GET whose path matches (a tampering EBS, for one answer). */
  tamperNext(path: RegExp, rewrite: (body: Record<string, unknown>) => Record<string, unknown>): void;
}

function jwtViewer(auth: string | undefined): string {
  const m = /^Bearer\s+[^.]+\.([^.]+)\./.exec(auth ?? '');
  if (!m) return '';
  try {
    const c = JSON.parse(Buffer.from(m[1], 'base64url').toString('utf8')) as { user_id?: string; opaque_user_id?: string };
    return c.user_id || c.opaque_user_id || '';
  } catch {
    return '';
  }
}

/**
 * A transparent proxy in front of the EBS that records every request the
 * browser makes (CORS preflights included, which the browser does not show to
 * the test); preflight answers that do not allow X-Mgm-Push-Seq and DELETE,
 * or cache for less than 7200 s, are listed in corsProblems.
 */
export async function countingProxy(target: () => string): Promise<CountingProxy> {
  const seen: SeenRequest[] = [];
  let tamper: { path: RegExp; rewrite: (body: Record<string, unknown>) => Record<string, unknown> } | null = null;
  const out: CountingProxy = {
    origin: '',
    seen,
    corsProblems: [],
    close: async () => undefined,
    tamperNext: (path, rewrite) => {
      tamper = { path, rewrite };
    },
  };
  const srv = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push({
      at: Date.now(),
      method: req.method ?? '',
      path: url.pathname,
      viewer: jwtViewer(req.headers.authorization),
      pushSeq: (req.headers['x-mgm-push-seq'] as string | undefined) ?? null,
    });
    const t = new URL(target());
    const rewrite = req.method === 'GET' && tamper?.path.test(url.pathname) ? tamper.rewrite : null;
    if (rewrite) tamper = null;
    const upHeaders: Record<string, string | string[] | undefined> = { ...req.headers, host: t.host };
    // A body to rewrite is asked for uncompressed (the EBS gzips the proof for browsers that accept it).
    if (rewrite) delete upHeaders['accept-encoding'];
    const up = httpRequest(
      { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: upHeaders },
      (r) => {
        const headers = { ...r.headers };
        if (req.method === 'OPTIONS' && headers['access-control-allow-origin']) {
          const allowH = String(headers['access-control-allow-headers'] ?? '');
          const allowM = String(headers['access-control-allow-methods'] ?? '');
          if (!/x-mgm-push-seq/i.test(allowH) || !/DELETE/.test(allowM) || headers['access-control-max-age'] !== '7200') {
            out.corsProblems.push(`${url.pathname}: allow-headers "${allowH}", allow-methods "${allowM}", max-age ${headers['access-control-max-age']}`);
          }
        }
        if (rewrite && r.statusCode === 200) {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => {
            const body = Buffer.from(JSON.stringify(rewrite(JSON.parse(Buffer.concat(chunks).toString('utf8')))));
            res.writeHead(200, { ...headers, 'content-length': String(body.length) });
            res.end(body);
          });
          return;
        }
        res.writeHead(r.statusCode ?? 502, headers);
        r.pipe(res);
      },
    );
    up.on('error', () => {
      // The EBS is down: the browser sees the connection fail, as it would without the proxy.
      res.socket?.destroy();
    });
    req.pipe(up);
  });
  const port = await listen(srv, '127.0.0.1');
  out.origin = `http://127.0.0.1:${port}`;
  out.close = () => closeServer(srv);
  return out;
}

