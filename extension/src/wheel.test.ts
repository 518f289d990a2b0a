import { describe, expect, it } from 'vitest';
import { spinStrip } from './wheel';

describe('spin strip', () => {
  it('is made of real pool names and stops on the candidate', () => {
    const names = ['Norinn', 'Kaelthas', 'Мимира'];
    const strip = spinStrip(names, 'Мимира', 20);
    expect(strip).toHaveLength(22);
    expect(strip[20]).toBe('Мимира');
    expect(strip.every((n) => names.includes(n))).toBe(true);
    expect(strip[21]).not.toBe('Мимира');
    for (let i = 1; i < 20; i++) expect(strip[i]).not.toBe(strip[i - 1]);
  });

  it('works with a single name or no names', () => {
    expect(spinStrip(['Norinn'], 'Norinn', 5)).toEqual(Array(7).fill('Norinn'));
    expect(spinStrip([], 'Norinn', 3)).toEqual(Array(5).fill('Norinn'));
  });
});
