// The ipchains state as read back from the kernel's table: built-in chains
// (policy in the base chain, rules in <name>_rules) and user chain definitions (u_<name>, never the per-context variants
// u_<name>/...), each rule's record from its comment, counters from the
// named counter objects (a folded run's records from the chain its fold rule names), masquerading timeouts from the ct timeout names.
import { fromIdentifierPart } from '../nft/escape.ts'
import { DecodeError, type Counts, type KernelChain, type KernelTable, unfoldedRules } from '../nft/kernel-table.ts'
import { timeoutsOf } from '../nft/nat.ts'
import { decodeRule } from './codec.ts'
import { type Chain, type Entry, type Policy, type State, BUILTIN_CHAINS, DEFAULT_TIMEOUTS, INITIAL_STATE, POLICIES, ZERO } from './model.ts'
import { policyCounter, rulesChainName } from './render.ts'

const countsOf = (table: KernelTable, rule: { counter?: string; counts?: Counts }): Counts =>
  rule.counts ?? (rule.counter === undefined ? undefined : table.counters.get(rule.counter)) ?? ZERO

const entriesOf = (table: KernelTable, chain: KernelChain): Entry[] =>
  unfoldedRules(table, chain).flatMap((r) => {
    if (r.comment === undefined || r.comment.startsWith('policy ') || r.counter === undefined) return []
    const rule = decodeRule(r.comment)
    if (!rule) throw new DecodeError(`cannot read rule "${r.comment}" in chain ${chain.name} of table ${table.name}`)
    return [{ rule, counter: r.counter, counts: countsOf(table, r) }]
  })

const policyOf = (chain: KernelChain | undefined): Policy => {
  const word = chain?.rules.find((r) => r.comment?.startsWith('policy '))?.comment?.slice(7)
  return (POLICIES as readonly string[]).includes(word ?? '') ? (word as Policy) : 'ACCEPT'
}

export const decodeState = (table: KernelTable | undefined): State => {
  if (!table) return INITIAL_STATE
  const kernelChain = (name: string): KernelChain | undefined => table.chains.find((c) => c.name === name)
  const builtins: Chain[] = BUILTIN_CHAINS.map((name) => {
    const rules = kernelChain(rulesChainName(name))
    return {
      name,
      policy: policyOf(kernelChain(name)),
      policyCounts: table.counters.get(policyCounter(name)) ?? ZERO,
      entries: rules ? entriesOf(table, rules) : [],
    }
  })
  const users: Chain[] = table.chains.flatMap((c) => {
    if (!c.name.startsWith('u_') || c.name.includes('/')) return []
    const name = fromIdentifierPart(c.name.slice(2))
    if (name === undefined) throw new DecodeError(`cannot read chain name ${c.name} in table ${table.name}`)
    return [{ name, policyCounts: ZERO, entries: entriesOf(table, c) }]
  })
  const counterSeq = Math.max(0, ...[...table.counters.keys()].map((n) => (/^r(\d+)$/.exec(n) ? Number(n.slice(1)) : 0)))
  return { chains: [...builtins, ...users], timeouts: timeoutsOf(table, DEFAULT_TIMEOUTS), counterSeq }
}
