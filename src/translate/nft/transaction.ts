// One `nft -f` transaction that replaces an owned table's contents with a
// newly rendered table, atomically, without losing counter values:
//   - named counters that survive are never deleted, so they keep counting;
//   - base chains that survive are flushed, not recreated;
//   - every other chain is deleted and re-created in render order (the
//     kernel lists chains in creation order, and so do the legacy tools);
//   - a one-element "generation" set makes it a compare-and-swap: deleting
//     the generation we read fails if another invocation committed first,
//     and then nothing at all is applied.
import type { NftTable } from './ir.ts'
import type { KernelTable } from './kernel-table.ts'
import { tableText } from './text.ts'

export const GENERATION_SET = 'generation'

export const generationOf = (table: KernelTable | undefined): number | undefined => {
  const element = table?.sets.get(GENERATION_SET)?.[0]
  return element === undefined ? undefined : Number(element)
}

export const replaceTableText = (current: KernelTable | undefined, next: NftTable): string => {
  const id = `${next.family} ${next.name}`
  const gen = generationOf(current)
  const nextGen = (gen ?? 0) + 1
  const lines: string[] = []
  if (!current) lines.push(`create table ${id}`)
  else {
    lines.push(`flush table ${id}`)
    if (gen !== undefined) lines.push(`delete element ${id} ${GENERATION_SET} { ${gen} }`)
    const keptBase = new Set(next.chains.filter((c) => c.base).map((c) => c.name))
    for (const chain of current.chains) if (!keptBase.has(chain.name)) lines.push(`delete chain ${id} ${chain.name}`)
    const counters = new Set(next.counters)
    for (const name of current.counters.keys()) if (!counters.has(name)) lines.push(`delete counter ${id} ${name}`)
    const timeouts = new Set(next.ctTimeouts.map((t) => t.name))
    for (const name of current.ctTimeouts) if (!timeouts.has(name)) lines.push(`delete ct timeout ${id} ${name}`)
  }
  const withGeneration: NftTable = { ...next, sets: [{ name: GENERATION_SET, type: 'mark', elements: [] }, ...next.sets] }
  lines.push(tableText(withGeneration).trimEnd())
  // create (not add): if a concurrent writer made this generation first, fail.
  lines.push(`create element ${id} ${GENERATION_SET} { ${nextGen} }`)
  return `${lines.join('\n')}\n`
}
