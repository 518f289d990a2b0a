import { describe, expect, it } from 'vitest';
import { spinStrip } from './wheel';

/** A seeded generator, so that a failure can be replayed. */
function seeded(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('spin strip', () => {
  it('is made of real pool names and stops on the candidate', () => {
    const names = ['Norinn', 'Kaelthas', 'Мимира'];
    const strip = spinStrip(names, 'Мимира', 20);
    expect(strip).toHaveLength(22);
    expect(strip[20]).toBe('Мимира');
    expect(strip.every((n) => names.includes(n))).toBe(true);
    expect(strip[21]).not.toBe('Мимира');
  });

  it('never puts a name next to itself, around the candidate included', () => {
    for (const names of [['Norinn', 'Kaelthas'], ['Norinn', 'Kaelthas', 'Мимира'], ['A', 'B', 'C', 'D', 'E', 'F', 'G']]) {
      for (const candidate of names) {
        // Checked by hand and reported together: an expect() per pair made
        // this test take seconds on a loaded machine.
        const bad: string[] = [];
        for (let seed = 1; seed <= 300; seed++) {
          const strip = spinStrip(names, candidate, 18 + (seed % 30), seeded(seed));
          const twice = strip.findIndex((n, i) => i > 0 && n === strip[i - 1]);
          if (twice > 0 || strip[strip.length - 2] !== candidate) bad.push(`seed ${seed}: ${strip.join(',')}`);
        }
        expect(bad).toEqual([]);
      }
    }
  });

  it('ignores duplicates in the names it is given', () => {
    const strip = spinStrip(['Norinn', 'Norinn', 'Kaelthas'], 'Norinn', 10, seeded(7));
    for (let i = 1; i < strip.length; i++) expect(strip[i]).not.toBe(strip[i - 1]);
  });

  it('works with a single name or no names (nothing else to show)', () => {
    expect(spinStrip(['Norinn'], 'Norinn', 5)).toEqual(Array(7).fill('Norinn'));
    expect(spinStrip([], 'Norinn', 3)).toEqual(Array(5).fill('Norinn'));
  });
});
