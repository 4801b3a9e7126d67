// One `nft -f` transaction that turns an owned table into a newly rendered
// one, atomically, without losing counter values.
//
// Removing anything from nf_tables (a rule, a chain, a set element) makes the
// kernel wait for an RCU grace period, about 15 ms per transaction; adding
// costs almost nothing. So:
//   - when the kernel still holds exactly what rendering the previous state
//     gives, only the rules that differ are deleted (by handle) and the new
//     ones inserted in place: appending a rule adds one rule and nothing else;
//   - otherwise (a table written by something else, or runs of read-free
//     appends that the rendering now folds) every rule read is deleted by
//     handle and every rule added again: never `flush`, so a read-free
//     append made meanwhile (which the generation does not guard) stays;
//   - chains, counters, ct timeouts and maps that survive are never
//     re-declared or deleted, so counters keep counting, maps keep what the
//     packet path learned, and chains keep their creation order, which is
//     the order the legacy tools list them in;
//   - the maps of folded runs (fold.ts) get the elements that changed: an
//     edit inside a run of thousands of rules changes a few elements;
//   - a rule with an anonymous counter (a tally) is always sent again: its
//     count belongs to the records committed with it;
//   - the compare-and-swap is `create element generation { G+1 }`, which
//     fails if another invocation committed G+1 first. Generation elements
//     expire after an hour instead of being deleted; a writer never commits
//     a state it read more than STALE_AFTER_MS ago.
import { type NftChain, type NftCtTimeout, type NftMap, type NftRule, type NftSet, type NftTable, chainsOf } from './ir.ts'
import type { KernelRule, KernelTable } from './kernel-table.ts'
import { baseChainText, counterElementText, counterMapLines, helperText, mapLines, quote, ruleText, setLines, timeoutPolicyText } from './text.ts'

export const GENERATION_SET = 'generation'
export const GENERATION: NftSet = { name: GENERATION_SET, type: 'mark', timeout: '1h', elements: [] }
export const STALE_AFTER_MS = 10 * 60 * 1000

export const generationOf = (table: KernelTable | undefined): number | undefined => {
  const values = table?.sets.get(GENERATION_SET)?.map(Number) ?? []
  return values.length ? Math.max(...values) : undefined
}

const chainDeclaration = (id: string, chain: NftChain): string => {
  const base = baseChainText(chain)
  return base === undefined ? `add chain ${id} ${chain.name}` : `add chain ${id} ${chain.name} { ${base} }`
}

const timeoutDeclaration = (id: string, t: NftCtTimeout): string =>
  `add ct timeout ${id} ${t.name} { protocol ${t.protocol}; l3proto ip; policy = { ${timeoutPolicyText(t)} }; }`

const setDeclaration = (id: string, set: NftSet): string => `add set ${id} ${set.name} { ${setLines(set).join('; ')}; }`

const mapDeclaration = (id: string, m: NftMap): string => `add map ${id} ${m.name} { ${mapLines(m).join('; ')}; }`

// Set elements as the kernel lists them (names unquoted) and as nft text.
const elementText = (set: NftSet, value: string): string => (set.type === 'ifname' ? `"${value}"` : value)

/** Declarations and element updates of the table's own sets (not the generation set). */
const setEdits = (id: string, current: KernelTable | undefined, next: NftTable): string[] =>
  next.sets.flatMap((set) => {
    const inKernel = current?.sets.get(set.name)
    const add = set.elements.length ? [`add element ${id} ${set.name} { ${set.elements.join(', ')} }`] : []
    if (inKernel === undefined) return [setDeclaration(id, set), ...add]
    // What the packet path added stays.
    if (set.dynamic) return []
    const same =
      [...inKernel]
        .map((v) => elementText(set, v))
        .sort()
        .join() === [...set.elements].sort().join()
    return same ? [] : [`flush set ${id} ${set.name}`, ...add]
  })

const elementsLine = (verb: 'add' | 'delete', id: string, name: string, elements: readonly string[]): string[] =>
  elements.length ? [`${verb} element ${id} ${name} { ${elements.join(', ')} }`] : []

/**
 * The elements of the counter maps: declared with all their elements when
 * new; when the kernel holds what `previous` rendered, only the elements that
 * changed (deleted first: a key may move to another counter); else all again.
 */
const counterMapEdits = (id: string, current: KernelTable | undefined, next: NftTable, previous: NftTable | undefined): string[] =>
  (next.counterMaps ?? []).flatMap((m) => {
    const all = m.elements.map(counterElementText)
    if (!current?.maps.has(m.name))
      return [`add map ${id} ${m.name} { ${counterMapLines(m).join('; ')}; }`, ...elementsLine('add', id, m.name, all)]
    const before = previous?.counterMaps?.find((p) => p.name === m.name)
    if (before === undefined) return [`flush map ${id} ${m.name}`, ...elementsLine('add', id, m.name, all)]
    const old = new Set(before.elements.map(counterElementText))
    const now = new Set(all)
    const gone = before.elements.filter((e) => !now.has(counterElementText(e))).map(([key]) => key)
    return [
      ...elementsLine('delete', id, m.name, gone),
      ...elementsLine(
        'add',
        id,
        m.name,
        all.filter((e) => !old.has(e)),
      ),
    ]
  })

/** Does the kernel hold exactly the rules of `rendered` (same order, comments, counters) and its counter maps' elements? */
const kernelMatches = (kernel: KernelTable, rendered: NftTable): boolean =>
  (rendered.counterMaps ?? []).every((m) => kernel.maps.get(m.name)?.length === m.elements.length) &&
  kernel.chains.length === chainsOf(rendered).length &&
  chainsOf(rendered).every((chain) => {
    const rules = kernel.chains.find((c) => c.name === chain.name)?.rules
    return (
      rules !== undefined &&
      rules.length === chain.rules.length &&
      chain.rules.every((r, i) => {
        const k = rules[i] as KernelRule
        return k.handle !== undefined && k.comment === r.comment && k.counter === r.counter
      })
    )
  })

/** Can the kernel's copy of `before` stay for `after`? */
const keeps = (before: NftRule | undefined, after: NftRule | undefined): boolean =>
  before !== undefined && after !== undefined && !after.tally && ruleText(before) === ruleText(after)

/** Rules of one surviving chain: delete the differing middle, insert the new middle. */
const chainEdits = (id: string, name: string, kernel: readonly KernelRule[], before: readonly NftRule[], after: readonly NftRule[]): string[] => {
  let prefix = 0
  while (prefix < before.length && prefix < after.length && keeps(before[prefix], after[prefix])) prefix++
  let suffix = 0
  while (
    suffix < before.length - prefix &&
    suffix < after.length - prefix &&
    keeps(before[before.length - 1 - suffix], after[after.length - 1 - suffix])
  )
    suffix++
  const edits = kernel.slice(prefix, kernel.length - suffix).map((r) => `delete rule ${id} ${name} handle ${r.handle}`)
  const anchor = kernel[kernel.length - suffix]
  for (const text of after.slice(prefix, after.length - suffix).map(ruleText))
    edits.push(anchor ? `insert rule ${id} ${name} position ${anchor.handle} ${text}` : `add rule ${id} ${name} ${text}`)
  return edits
}

/**
 * The transaction from `current` (the kernel's table, if any) to `next`.
 * `previous` is the rendering of the state decoded from `current`; when the
 * kernel matches it, only the difference is sent.
 */
export const replaceTableText = (current: KernelTable | undefined, next: NftTable, previous?: NftTable): string => {
  const id = `${next.family} ${next.name}`
  const existingChains = new Set(current?.chains.map((c) => c.name))
  const existingCounters = new Set(current?.counters.keys())
  const existingTimeouts = new Set(current?.ctTimeouts)
  const incremental = current !== undefined && previous !== undefined && kernelMatches(current, previous)
  const lines: string[] = []

  if (!current) lines.push(`create table ${id} { comment ${quote(next.comment ?? '')}; }`)
  if (!current?.sets.has(GENERATION_SET)) lines.push(setDeclaration(id, GENERATION))

  lines.push(...setEdits(id, current, next))
  for (const m of next.maps ?? []) if (!current?.maps.has(m.name)) lines.push(mapDeclaration(id, m))
  const chains = chainsOf(next)
  for (const chain of chains) if (!existingChains.has(chain.name)) lines.push(chainDeclaration(id, chain))
  for (const t of next.ctTimeouts) if (!existingTimeouts.has(t.name)) lines.push(timeoutDeclaration(id, t))
  for (const name of next.counters) if (!existingCounters.has(name)) lines.push(`add counter ${id} ${name}`)
  lines.push(...counterMapEdits(id, current, next, incremental ? previous : undefined))
  const existingHelpers = new Set(current?.ctHelpers)
  for (const h of next.ctHelpers ?? []) if (!existingHelpers.has(h.name)) lines.push(`add ct helper ${id} ${h.name} { ${helperText(h)} }`)

  for (const chain of chains) {
    const kernel = current?.chains.find((c) => c.name === chain.name)
    const before = previous && chainsOf(previous).find((c) => c.name === chain.name)?.rules
    if (kernel?.rules.some((r) => r.handle === undefined)) lines.push(`flush chain ${id} ${chain.name}`)
    if (kernel && kernel.rules.every((r) => r.handle !== undefined))
      lines.push(...chainEdits(id, chain.name, kernel.rules, incremental && before ? before : [], chain.rules))
    else lines.push(...chain.rules.map((rule) => `add rule ${id} ${chain.name} ${ruleText(rule)}`))
  }

  // Removals go last, once no rule refers to what is removed.
  const wantedChains = new Set(chains.map((c) => c.name))
  for (const chain of current?.chains ?? []) {
    if (wantedChains.has(chain.name)) continue
    if (chain.rules.length) lines.push(`flush chain ${id} ${chain.name}`)
    lines.push(`delete chain ${id} ${chain.name}`)
  }
  const wantedSets = new Set([GENERATION_SET, ...next.sets.map((set) => set.name)])
  for (const name of current?.sets.keys() ?? []) if (!wantedSets.has(name)) lines.push(`delete set ${id} ${name}`)
  const wantedMaps = new Set([...(next.maps ?? []), ...(next.counterMaps ?? [])].map((m) => m.name))
  for (const name of current?.maps.keys() ?? []) if (!wantedMaps.has(name)) lines.push(`delete map ${id} ${name}`)
  // Counters last: a map's elements may name them.
  for (const name of existingCounters) if (!next.counters.includes(name)) lines.push(`delete counter ${id} ${name}`)
  const wantedTimeouts = new Set(next.ctTimeouts.map((t) => t.name))
  for (const name of existingTimeouts) if (!wantedTimeouts.has(name)) lines.push(`delete ct timeout ${id} ${name}`)
  const wantedHelpers = new Set(next.ctHelpers?.map((h) => h.name))
  for (const name of existingHelpers) if (!wantedHelpers.has(name)) lines.push(`delete ct helper ${id} ${name}`)

  lines.push(`create element ${id} ${GENERATION_SET} { ${(generationOf(current) ?? 0) + 1} }`)
  return `${lines.join('\n')}\n`
}
