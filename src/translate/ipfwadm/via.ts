// -V matches the interface whose primary address is A. nftables cannot
// look up an interface's address, so each A used has a set of interface
// names, via_<A>, holding the interfaces whose primary address A is; it is
// filled when rules are committed and kept current by `via-watch` when
// addresses change (runtime/via-watch.ts).
import { addrToDotted, dottedToAddr } from '../common/inet.ts'
import type { KernelTable } from '../nft/kernel-table.ts'
import { ifaceString } from '../nft/match.ts'

/** The interfaces and their primary addresses (dev->pa_addr, 0 for none). */
export type Interfaces = ReadonlyMap<string, number | undefined>

const PREFIX = 'via_'

export const viaSetName = (addr: number): string => `${PREFIX}${addrToDotted(addr).replaceAll('.', '_')}`

/** The address a via set stands for, undefined for other sets. */
export const viaAddrOf = (setName: string): number | undefined =>
  setName.startsWith(PREFIX) ? dottedToAddr(setName.slice(PREFIX.length).replaceAll('_', '.')) : undefined

/** The set's elements as nft text: the interfaces whose primary address is `addr`. */
export const viaElements = (addr: number, interfaces: Interfaces): string[] =>
  [...interfaces]
    .filter(([, primary]) => primary === addr)
    .map(([name]) => ifaceString(name, false))
    .filter((n): n is string => n !== undefined)
    .sort()

/** The via sets of a table in the kernel, with the elements they hold. */
export const viaSetsOf = (table: KernelTable | undefined): Map<number, string[]> => {
  const sets = new Map<number, string[]>()
  for (const [name, values] of table?.sets ?? []) {
    const addr = viaAddrOf(name)
    if (addr !== undefined) sets.set(addr, values.map((v) => `"${v}"`).sort())
  }
  return sets
}

/** The transaction that brings the table's via sets up to date, or undefined if they are. */
export const viaResyncText = (
  family: string,
  table: string,
  sets: ReadonlyMap<number, readonly string[]>,
  interfaces: Interfaces,
): string | undefined => {
  const lines: string[] = []
  for (const [addr, held] of sets) {
    const wanted = viaElements(addr, interfaces)
    if (wanted.join() === held.join()) continue
    const name = viaSetName(addr)
    lines.push(`flush set ${family} ${table} ${name}`)
    if (wanted.length) lines.push(`add element ${family} ${table} ${name} { ${wanted.join(', ')} }`)
  }
  return lines.length ? `${lines.join('\n')}\n` : undefined
}
