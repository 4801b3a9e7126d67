// The 2.2 preference scheduler of portfw and mfw: the first entry of a
// group takes `pref` new connections in a row, then its counter is
// reloaded and it goes to the tail of its list.
export interface Turn {
  readonly pref: number
  readonly prefCnt: number
}

/**
 * One new connection for the group `member` selects: the entry it goes to,
 * and the list after it. `skipIdle` (mfw): an entry with pref 0 never gets
 * a turn by rotation (legacyfw's reading, docs/divergences.md).
 */
export const serve = <T extends Turn>(list: readonly T[], member: (t: T) => boolean, skipIdle: boolean): { list: T[]; served: T } => {
  const at = list.findIndex(member)
  const served = list[at] as T
  if (served.prefCnt > 1) return { list: list.map((t, i) => (i === at ? { ...t, prefCnt: t.prefCnt - 1 } : t)), served }
  let next = [...list.filter((_, i) => i !== at), { ...served, prefCnt: served.pref }]
  const busy = next.filter(member).some((t) => t.pref > 0)
  while (skipIdle && busy && (next.find(member)?.pref ?? 1) === 0) {
    const idle = next.findIndex(member)
    next = [...next.filter((_, i) => i !== idle), next[idle] as T]
  }
  return { list: next, served }
}

/** Connections until the group's state repeats. */
export const cycleLength = <T extends Turn>(list: readonly T[], member: (t: T) => boolean): number =>
  list.filter(member).reduce((sum, t) => sum + t.pref, 0)

/** The list after `count` connections. */
export const advance = <T extends Turn>(list: readonly T[], member: (t: T) => boolean, skipIdle: boolean, count: number): T[] => {
  const n = cycleLength(list, member)
  let current = [...list]
  for (let i = 0; i < (n === 0 ? 0 : count % n); i++) current = serve(current, member, skipIdle).list
  return current
}

/** Where each of the next cycle's connections goes, as runs [first, last, entry]. */
export const schedule = <T extends Turn>(list: readonly T[], member: (t: T) => boolean, skipIdle: boolean): [number, number, T][] => {
  const runs: [number, number, T][] = []
  let current = [...list]
  const n = cycleLength(list, member)
  for (let i = 0; i < n; i++) {
    const { list: after, served } = serve(current, member, skipIdle)
    const last = runs[runs.length - 1]
    // Runs are by position in the original list (the entries themselves change their counters).
    const origin = list.findIndex((t) => member(t) && sameTarget(t, served))
    if (last && list.indexOf(last[2]) === origin) last[1] = i
    else runs.push([i, i, list[origin] as T])
    current = after
  }
  return runs
}

const sameTarget = (a: Turn, b: Turn): boolean => {
  const { prefCnt: _a, ...restA } = a
  const { prefCnt: _b, ...restB } = b
  return JSON.stringify(restA) === JSON.stringify(restB)
}
