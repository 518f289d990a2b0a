import { describe, expect, it } from 'vitest';
import { needsUpdate, parseSemver } from './version';

describe('update banner decision', () => {
  it('parses versions', () => {
    expect(parseSemver('1.2.3')).toEqual([1, 2, 3]);
    expect(parseSemver('v10.0.1-beta+7')).toEqual([10, 0, 1]);
    expect(parseSemver('1.2')).toBeNull();
    expect(parseSemver(null)).toBeNull();
  });

  it('asks for an update only when the minimum is above our version', () => {
    expect(needsUpdate('1.0.1', '1.0.0')).toBe(true);
    expect(needsUpdate('1.1.0', '1.0.9')).toBe(true);
    expect(needsUpdate('2.0.0', '1.9.9')).toBe(true);
    expect(needsUpdate('1.0.0', '1.0.0')).toBe(false);
    expect(needsUpdate('0.9.0', '1.0.0')).toBe(false);
    expect(needsUpdate(null, '1.0.0')).toBe(false);
    expect(needsUpdate('', '1.0.0')).toBe(false);
    expect(needsUpdate('garbage', '1.0.0')).toBe(false);
  });
});
