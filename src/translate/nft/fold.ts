// Runs of legacy rules that differ in one address or port, as one nft rule
// that looks the key up in an interval map of named counters:
//
//   ip protocol tcp counter name ip saddr map @input_rules/f1 drop comment "fold input_rules/f1"
//
// The lookup matches (a key in no element ends the rule) and counts into the
// legacy rule's own counter, so every packet costs one lookup instead of a
// walk through the run, and the listings' counters stay those of the rules.
//
// Why the folded chain decides every packet as the linear one: the members
// of a run are consecutive and share every match but the key, and every
// statement (verdict, log). A packet that fails the shared matches passes
// both forms untouched. One that passes them:
//   - terminal verdict (accept, drop, reject, return): linear, the first
//     member whose key holds the packet counts it and decides; folded, each
//     address or port maps to the first member covering it (overlaps are
//     cut into pieces by that rule), so the same member counts and the same
//     verdict follows; no member holds it in either form: it goes on.
//   - anything else (count only, a jump that can come back): a fold is made
//     only of members whose keys are disjoint, so at most one member holds
//     the packet in either form.
// A rule that needs several nft rules, a tally, or a match on a range that
// is not an interval never joins a run.
//
// The members' records stay readable: the chain named like the map, which
// nothing jumps to, holds one rule per member with its comment and counter
// (records rules, see unfoldedRules).
import { addrToDotted } from '../common/inet.ts'
import type { NftChain, NftCounterMap, NftRule } from './ir.ts'

/** Runs shorter than this stay linear: a few rules cost less than a lookup. */
export const FOLD_MIN = 8

export const FOLD_PREFIX = 'fold '

export interface Folded {
  readonly rules: NftRule[]
  readonly maps: NftCounterMap[]
  /** Chains of records, one per map whose members have records. */
  readonly records: NftChain[]
}

interface Key {
  /** The nft field, e.g. "ip saddr", "tcp dport". */
  readonly field: string
  readonly type: 'ipv4_addr' | 'inet_service'
  readonly lo: number
  readonly hi: number
}

// As addrMatch writes them: dotted quads of the masked address.
const ADDR = /^ip (saddr|daddr) (\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?$/
const PORT = /^(tcp|udp) (sport|dport) (\d+)(?:-(\d+))?$/

/** An address or port match as an interval, undefined for any other match. */
export const keyOf = (match: string): Key | undefined => {
  const addr = ADDR.exec(match)
  if (addr) {
    const octets = addr.slice(2, 6).map(Number)
    const base = octets.reduce((n, o) => n * 256 + o, 0)
    const bits = addr[6] === undefined ? 32 : Number(addr[6])
    if (octets.some((o) => o > 255) || bits < 1 || bits > 32) return undefined
    const span = 2 ** (32 - bits)
    return { field: `ip ${addr[1]}`, type: 'ipv4_addr', lo: base, hi: base + span - 1 }
  }
  const port = PORT.exec(match)
  if (port) {
    const lo = Number(port[3])
    return { field: `${port[1]} ${port[2]}`, type: 'inet_service', lo, hi: port[4] === undefined ? lo : Number(port[4]) }
  }
  return undefined
}

/** An interval as the kernel lists an element: a value, an address prefix, or a range. */
export const intervalText = (type: Key['type'], lo: number, hi: number): string => {
  if (type === 'inet_service') return lo === hi ? `${lo}` : `${lo}-${hi}`
  const size = hi - lo + 1
  const bits = 32 - Math.log2(size)
  if (Number.isInteger(bits) && lo % size === 0) return bits === 32 ? addrToDotted(lo) : `${addrToDotted(lo)}/${bits}`
  return `${addrToDotted(lo)}-${addrToDotted(hi)}`
}

const TERMINAL = /^(accept|drop|return|reject( .*)?)$/

/** Does the rule's last statement end the packet's walk through the chain? */
const isTerminal = (rule: NftRule): boolean => TERMINAL.test(rule.stmts[rule.stmts.length - 1] ?? '')

/** A key and its position in the rule's matches. */
interface PlacedKey extends Key {
  readonly index: number
}

interface Candidate {
  readonly rule: NftRule
  /** Each key, by what the members of a run on it must share: the field, its position, the other matches, the statements. */
  readonly keys: ReadonlyMap<string, PlacedKey>
}

// A command renders the state before and after it, and the renderers reuse
// the rule groups of rules it did not touch: their candidates are reused too.
const candidateCache = new WeakMap<readonly NftRule[], Candidate | undefined>()

const candidateOf = (group: readonly NftRule[]): Candidate | undefined => {
  if (candidateCache.has(group)) return candidateCache.get(group)
  const candidate = newCandidate(group)
  candidateCache.set(group, candidate)
  return candidate
}

const newCandidate = (group: readonly NftRule[]): Candidate | undefined => {
  const [rule] = group
  if (group.length !== 1 || rule === undefined || rule.counter === undefined || rule.tally) return undefined
  const keys = new Map<string, PlacedKey>()
  const stmts = rule.stmts.join('\u0000')
  rule.matches.forEach((m, index) => {
    const key = keyOf(m)
    // nft text holds no NUL: the parts cannot run into each other.
    const rest = [...rule.matches.slice(0, index), ...rule.matches.slice(index + 1)].join('\u0000')
    if (key) keys.set(`${key.field}\u0001${index}\u0001${rest}\u0001${stmts}`, { ...key, index })
  })
  return keys.size ? { rule, keys } : undefined
}

/** Sorted disjoint intervals, to find overlaps as a run grows. */
class Intervals {
  private readonly items: [number, number][] = []

  /** The index of the first interval ending at or after `at`. */
  private firstEndingFrom(at: number): number {
    let [lo, hi] = [0, this.items.length]
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if ((this.items[mid] as [number, number])[1] < at) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  overlaps(lo: number, hi: number): boolean {
    const next = this.items[this.firstEndingFrom(lo)]
    return next !== undefined && next[0] <= hi
  }

  /** Covers [lo, hi]; returns the parts that were not covered yet. */
  cover(lo: number, hi: number): [number, number][] {
    const first = this.firstEndingFrom(lo)
    const gaps: [number, number][] = []
    let cursor = lo
    let i = first
    for (; i < this.items.length && (this.items[i] as [number, number])[0] <= hi; i++) {
      const [a, b] = this.items[i] as [number, number]
      if (a > cursor) gaps.push([cursor, a - 1])
      cursor = Math.max(cursor, b + 1)
    }
    if (cursor <= hi) gaps.push([cursor, hi])
    const merged: [number, number] = [
      Math.min(lo, this.items[first]?.[0] ?? lo),
      Math.max(hi, i > first ? (this.items[i - 1] as [number, number])[1] : hi),
    ]
    this.items.splice(first, i - first, merged)
    return gaps
  }
}

/** The longest run starting at `start` that may fold, and the key it folds on. */
const runFrom = (candidates: readonly (Candidate | undefined)[], start: number): { length: number; sig: string } | undefined => {
  const first = candidates[start]
  if (!first) return undefined
  let best: { length: number; sig: string } | undefined
  const terminal = isTerminal(first.rule)
  for (const sig of first.keys.keys()) {
    const seen = new Intervals()
    let end = start
    for (; end < candidates.length; end++) {
      const k = candidates[end]?.keys.get(sig)
      if (k === undefined || (!terminal && seen.overlaps(k.lo, k.hi))) break
      if (!terminal) seen.cover(k.lo, k.hi)
    }
    if (!best || end - start > best.length) best = { length: end - start, sig }
  }
  return best
}

/** The map's elements: each address or port to the first member whose key holds it. */
const elementsOf = (members: readonly { key: Key; counter: string }[]): (readonly [string, string])[] => {
  const covered = new Intervals()
  const pieces = members.flatMap(({ key, counter }) => covered.cover(key.lo, key.hi).map(([lo, hi]) => ({ lo, hi, counter })))
  pieces.sort((a, b) => a.lo - b.lo)
  const merged: { lo: number; hi: number; counter: string }[] = []
  for (const p of pieces) {
    const last = merged[merged.length - 1]
    if (last && last.counter === p.counter && last.hi + 1 === p.lo) last.hi = p.hi
    else merged.push({ ...p })
  }
  const type = members[0]?.key.type ?? 'ipv4_addr'
  return merged.map((p) => [intervalText(type, p.lo, p.hi), p.counter] as const)
}

// The elements of the runs the last renders folded, by first member: the
// state before and after a command mostly share them.
const elementCache = new WeakMap<Candidate, { sig: string; members: readonly Candidate[]; elements: (readonly [string, string])[] }>()

const elementsCached = (
  members: readonly Candidate[],
  sig: string,
  compute: () => (readonly [string, string])[],
): (readonly [string, string])[] => {
  const cached = elementCache.get(members[0] as Candidate)
  if (cached?.sig === sig && cached.members.length === members.length && cached.members.every((m, i) => m === members[i])) return cached.elements
  const elements = compute()
  elementCache.set(members[0] as Candidate, { sig, members, elements })
  return elements
}

/**
 * A chain's rules, given as one group per legacy rule (the nft rules it
 * renders to), with every run of at least FOLD_MIN foldable rules folded
 * into a map named `<chain>/f<n>`.
 */
export const foldRules = (chain: string, groups: readonly (readonly NftRule[])[]): Folded => {
  const members = groups.map(candidateOf)
  const folded: Folded = { rules: [], maps: [], records: [] }
  for (let i = 0; i < groups.length;) {
    const run = runFrom(members, i)
    if (!run || run.length < FOLD_MIN) {
      folded.rules.push(...(groups[i] as readonly NftRule[]))
      i++
      continue
    }
    const slice = members.slice(i, i + run.length) as Candidate[]
    const folding = slice.map(({ rule, keys }) => ({ rule, key: keys.get(run.sig) as PlacedKey, counter: rule.counter as string }))
    const name = `${chain}/f${folded.maps.length + 1}`
    const first = folding[0] as (typeof folding)[number]
    const keyIndex = first.key.index
    folded.maps.push({ name, key: first.key.type, elements: elementsCached(slice, run.sig, () => elementsOf(folding)) })
    folded.rules.push({
      matches: first.rule.matches.filter((_, j) => j !== keyIndex),
      stmts: [`counter name ${first.key.field} map @${name}`, ...first.rule.stmts],
      comment: `${FOLD_PREFIX}${name}`,
    })
    const records = folding.flatMap(({ rule }) => (rule.comment === undefined ? [] : [recordOf(rule)]))
    if (records.length) folded.records.push({ name, rules: records })
    i += run.length
  }
  return folded
}

const recordOf = (rule: NftRule): NftRule => ({
  matches: [],
  ...(rule.counter === undefined ? {} : { counter: rule.counter }),
  stmts: ['continue'],
  ...(rule.comment === undefined ? {} : { comment: rule.comment }),
})

/** The chain a fold rule's comment names, if it is one. */
export const foldedChain = (comment: string | undefined): string | undefined =>
  comment?.startsWith(FOLD_PREFIX) ? comment.slice(FOLD_PREFIX.length) : undefined
