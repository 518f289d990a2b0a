// Runs each EBS call on its own timer: a failing call backs off alone and
// never delays or hides the others. Pauses while the panel is hidden.

import type { ApiError } from './api';
import { failureDelay } from './backoff';

/** nextMs null: do not run again until poked (the panel asks when a pushed change calls for it). */
export type TaskResult = { ok: true; nextMs: number | null } | { ok: false; error: ApiError };

export interface Task {
  name: string;
  /** Whether the task should run now (e.g. personal calls need the viewer's identity). */
  enabled(): boolean;
  run(signal: AbortSignal): Promise<TaskResult>;
  /** Called with the delay chosen after a failure (for "retrying in N s"). */
  onFailure?(error: ApiError, retryAt: number): void;
}

interface Slot {
  task: Task;
  timer: ReturnType<typeof setTimeout> | null;
  dueAt: number;
  running: AbortController | null;
  rerun: boolean;
  backoffMs: number | null;
  failed: boolean;
}

export interface PollerDeps {
  random?: () => number;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => ReturnType<typeof setTimeout>;
  clearTimer?: (t: ReturnType<typeof setTimeout>) => void;
}

export class Poller {
  private slots = new Map<string, Slot>();
  private active = false;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => ReturnType<typeof setTimeout>;
  private readonly clearTimer: (t: ReturnType<typeof setTimeout>) => void;

  constructor(tasks: Task[], deps: PollerDeps = {}) {
    for (const task of tasks) {
      this.slots.set(task.name, { task, timer: null, dueAt: 0, running: null, rerun: false, backoffMs: null, failed: false });
    }
    this.random = deps.random ?? Math.random;
    this.now = deps.now ?? Date.now;
    this.setTimer = deps.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = deps.clearTimer ?? ((t) => clearTimeout(t));
  }

  get running(): boolean {
    return this.active;
  }

  /**
   * Starts (or resumes) polling: the named tasks (all when none are named) run
   * at once; the others wait for a poke.
   */
  start(only?: string[]): void {
    if (this.active) return;
    this.active = true;
    for (const s of this.slots.values()) if (!only || only.includes(s.task.name)) this.schedule(s, 0);
  }

  /** Stops every timer and aborts calls in flight (used while hidden). */
  pause(): void {
    this.active = false;
    for (const s of this.slots.values()) {
      if (s.timer) this.clearTimer(s.timer);
      s.timer = null;
      s.running?.abort();
      s.running = null;
      s.rerun = false;
    }
  }

  /** Runs a task within delayMs (sooner than its schedule, never later). */
  poke(name: string, delayMs = 0): void {
    const s = this.slots.get(name);
    if (!s || !this.active) return;
    if (s.running) {
      s.rerun = true;
      return;
    }
    if (s.timer && s.dueAt <= this.now() + delayMs) return;
    this.schedule(s, delayMs);
  }

  /**
   * Sets when a task runs next, later or sooner than planned (a push just
   * brought fresh state, so the fetch it would have made moves out); null
   * leaves it waiting for a poke. A failed task keeps its backoff.
   */
  defer(name: string, delayMs: number | null): void {
    const s = this.slots.get(name);
    if (!s || !this.active || s.running || s.failed) return;
    if (delayMs == null) {
      if (s.timer) this.clearTimer(s.timer);
      s.timer = null;
      return;
    }
    this.schedule(s, delayMs);
  }

  /** The Retry button: failed tasks run now with their backoff reset. */
  retryFailed(): void {
    for (const s of this.slots.values()) {
      if (!s.failed) continue;
      s.backoffMs = null;
      this.poke(s.task.name, 0);
    }
  }

  private schedule(s: Slot, delayMs: number): void {
    if (s.timer) this.clearTimer(s.timer);
    const ms = Math.max(0, Math.round(delayMs));
    s.dueAt = this.now() + ms;
    s.timer = this.setTimer(() => {
      s.timer = null;
      void this.runSlot(s);
    }, ms);
  }

  private async runSlot(s: Slot): Promise<void> {
    if (!this.active || s.running) return;
    if (!s.task.enabled()) return; // re-enabled tasks are poked by their owner
    const ctl = new AbortController();
    s.running = ctl;
    let result: TaskResult;
    try {
      result = await s.task.run(ctl.signal);
    } catch (e) {
      result = {
        ok: false,
        error: { kind: 'network', status: 0, code: 'internal', message: e instanceof Error ? e.message : String(e), retryAfterMs: null },
      };
    }
    if (s.running !== ctl) return; // paused meanwhile
    s.running = null;
    if (!this.active) return;
    if (!result.ok && result.error.kind === 'aborted') return;
    let delay: number | null;
    if (result.ok) {
      s.backoffMs = null;
      s.failed = false;
      delay = result.nextMs;
    } else {
      const f = failureDelay(result.error, s.backoffMs, this.random);
      s.backoffMs = f.backoffMs;
      s.failed = true;
      delay = f.delayMs;
      s.task.onFailure?.(result.error, this.now() + delay);
    }
    if (s.rerun) {
      s.rerun = false;
      delay = result.ok ? 0 : delay;
    }
    if (delay != null) this.schedule(s, delay);
  }
}
