// Plumbing for the end-to-end test: child processes that are always killed,
// steps that always end, HTTP calls with timeouts.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';

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
