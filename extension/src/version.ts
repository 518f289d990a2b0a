// Semantic versions for the update banner.

export type Semver = [number, number, number];

/** Parses MAJOR.MINOR.PATCH with an optional leading v and -pre/+build suffix (ignored). */
export function parseSemver(v: string | null | undefined): Semver | null {
  if (v == null) return null;
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

export function compareSemver(a: Semver, b: Semver): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

/** Whether the EBS requires a newer panel than this one. Unreadable versions never nag. */
export function needsUpdate(minimum: string | null | undefined, current: string): boolean {
  const min = parseSemver(minimum);
  const cur = parseSemver(current);
  if (!min || !cur) return false;
  return compareSemver(min, cur) > 0;
}
