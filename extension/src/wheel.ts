// The roulette reel: real pool names in a vertical strip that spins during
// `spinning` and stops on the drawn candidate. Respects prefers-reduced-motion.

import { h } from './dom';
import type { RouletteView } from './view';

export const ROW_PX = 30;

function reducedMotion(): boolean {
  return typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches;
}

/**
 * A spin strip: random pool names ending on the candidate with one name after
 * it. No name ever sits next to itself (a reel showing "Norinn, Norinn" looks
 * broken), including the rows around the candidate.
 */
export function spinStrip(names: string[], candidate: string, length: number, rand: () => number = Math.random): string[] {
  const pool = [...new Set(names.length > 0 ? names : [candidate])];
  const pick = (not: string[]): string => {
    const choices = pool.filter((n) => !not.includes(n));
    if (choices.length === 0) return not[0] ?? candidate;
    return choices[Math.floor(rand() * choices.length)];
  };
  // Built from the candidate backwards: each row only has to differ from the
  // one after it, which two names can always do.
  const out: string[] = [];
  let next = candidate;
  for (let i = 0; i < length; i++) {
    next = pick([next]);
    out.unshift(next);
  }
  return [...out, candidate, pick([candidate])];
}

export class Wheel {
  readonly el: HTMLElement;
  private readonly strip: HTMLUListElement;
  private key = '';
  private spinning: { cycleId: string | null; name: string } | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private landedOn: string | null = null;
  /** Called when a spin comes to rest (the text then says where it stopped). */
  onLanded: (() => void) | null = null;

  constructor() {
    this.strip = h('ul', { class: 'strip' });
    this.el = h('div', { class: 'wheel', 'data-state': 'loading', 'aria-hidden': 'true' }, h('div', { class: 'window' }, this.strip));
  }

  /** Whether the wheel is at rest on this round's name (after its spin, or shown landed). */
  hasLanded(cycleId: string | null, name: string | null): boolean {
    return name != null && this.landedOn === `${cycleId}|${name}`;
  }

  /** Shows v; spinEndsInMs is how long the spinning phase still lasts. */
  update(v: RouletteView | null, poolNames: string[], spinEndsInMs: number): void {
    if (!v) return this.renderStatic('loading', ['', '…', ''], 1, '');
    // A landing for the same cycle and name as the running spin: let it finish.
    if (this.spinning && (v.wheel === 'spin' || v.wheel === 'landed') && v.name === this.spinning.name && v.cycleId === this.spinning.cycleId) {
      return;
    }
    switch (v.wheel) {
      case 'empty':
        return this.renderStatic('empty', ['', '—', ''], 1, '');
      case 'pool': {
        const names = poolNames.slice(-3);
        const rows = names.length >= 3 ? names : names.length === 2 ? [names[0], names[1], ''] : ['', names[0] ?? '…', ''];
        return this.renderStatic('pool', rows, 1, '');
      }
      case 'landed':
        return this.renderLanded(v.name ?? '', poolNames, v.cycleId);
      case 'rest':
        return this.renderLanded(v.name ?? '', poolNames, 'rest', 'rest');
      case 'spin': {
        const key = `spin|${v.cycleId}|${v.name}`;
        if (this.key === key || this.key.startsWith(`landed|${v.cycleId}|${v.name}|`)) return;
        return this.spin(v.name ?? '', poolNames, v.cycleId, spinEndsInMs);
      }
    }
  }

  private setRows(rows: string[], hit: number): void {
    this.strip.replaceChildren(...rows.map((n, i) => h('li', i === hit ? { class: 'hit' } : null, n)));
  }

  private position(index: number, durationMs: number): void {
    this.strip.style.transition = durationMs > 0 ? `transform ${durationMs}ms cubic-bezier(0.12, 0.8, 0.18, 1)` : 'none';
    this.strip.style.transform = `translateY(${(1 - index) * ROW_PX}px)`;
  }

  private renderStatic(state: string, rows: string[], hit: number, name: string): void {
    const key = `${state}|${rows.join(',')}`;
    if (this.key === key) return;
    this.stopSpin();
    this.key = key;
    this.landedOn = null;
    this.el.dataset.state = state;
    this.el.dataset.name = name;
    this.setRows(rows, state === 'landed' || state === 'rest' ? hit : -1);
    this.position(hit, 0);
  }

  private renderLanded(name: string, poolNames: string[], cycleId: string | null, state = 'landed'): void {
    const key = `${state}|${cycleId}|${name}|${poolNames.length}`;
    if (this.key === key || (state === 'landed' && this.key.startsWith(`landed|${cycleId}|${name}|`))) return;
    const others = poolNames.filter((n) => n !== name);
    const before = others.length > 0 ? others[others.length - 1] : '';
    const after = others.length > 1 ? others[0] : '';
    this.renderStatic(state, [before, name, after], 1, name);
    this.key = key;
    if (state === 'landed') this.landedOn = `${cycleId}|${name}`;
  }

  private spin(name: string, poolNames: string[], cycleId: string | null, spinEndsInMs: number): void {
    if (reducedMotion()) return this.renderLanded(name, poolNames, cycleId);
    this.stopSpin();
    const duration = Math.max(1200, Math.min(6000, spinEndsInMs - 300));
    const rows = spinStrip(poolNames, name, Math.max(18, Math.min(48, Math.round(duration / 110))));
    const target = rows.length - 2;
    this.key = `spin|${cycleId}|${name}`;
    this.landedOn = null;
    this.spinning = { cycleId, name };
    this.el.dataset.state = 'spinning';
    this.el.dataset.name = name;
    this.setRows(rows, -1);
    this.position(1, 0);
    void this.strip.offsetHeight; // commit the start position before animating
    this.position(target, duration);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.spinning = null;
      this.strip.children[target]?.classList.add('hit');
      this.el.dataset.state = 'landed';
      this.key = `landed|${cycleId}|${name}|spun`;
      this.landedOn = `${cycleId}|${name}`;
      this.onLanded?.();
    }, duration + 50);
  }

  private stopSpin(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.spinning = null;
  }
}
