// The ipfwadm state as read back from the kernel's table: each list from
// its rules chain (accounting from acct_in_rules, which holds every
// accounting rule's record), rules from their comments, counters from the
// named counter objects (a folded run's records from the chain its fold
// rule names), policies from the base chains' policy rules.
import { DecodeError, type Counts, type KernelChain, type KernelRule, type KernelTable, unfoldedRules } from '../nft/kernel-table.ts'
import { timeoutsOf } from '../nft/nat.ts'
import { decodeRule } from './codec.ts'
import { type Category, type Chain, type Entry, type State, DEFAULT_TIMEOUTS, FW, INITIAL_STATE, ZERO } from './model.ts'
import { acctHelperName, policyFromComment, rulesChainName } from './render.ts'

// An accounting rule that needs several nft rules jumps to a helper chain
// named after its counter.
const counterOf = (rule: KernelRule): string | undefined => {
  if (rule.counter !== undefined) return rule.counter
  const prefix = acctHelperName('', 'acct_in')
  return rule.jump?.startsWith(prefix) ? rule.jump.slice(prefix.length) : undefined
}

const entriesOf = (table: KernelTable, chain: KernelChain | undefined, accounting: boolean): Entry[] =>
  (chain ? unfoldedRules(table, chain) : []).flatMap((r) => {
    const counter = counterOf(r)
    if (r.comment === undefined || counter === undefined) return []
    const rule = decodeRule(r.comment, accounting)
    if (!rule) throw new DecodeError(`cannot read rule "${r.comment}" in chain ${chain?.name} of table ${table.name}`)
    const counts: Counts = r.counts ?? table.counters.get(counter) ?? ZERO
    return [{ rule, counter, counts }]
  })

export const decodeState = (table: KernelTable | undefined): State => {
  if (!table) return INITIAL_STATE
  const kernelChain = (name: string): KernelChain | undefined => table.chains.find((c) => c.name === name)
  const policyOf = (name: string): number =>
    kernelChain(name)
      ?.rules.map((r) => policyFromComment(r.comment))
      .find((p) => p !== undefined) ?? FW.ACCEPT
  const chain = (category: Category): Chain => {
    const accounting = category === 'accounting'
    return {
      policy: accounting ? FW.ACCEPT : policyOf(category),
      entries: entriesOf(table, kernelChain(rulesChainName(accounting ? 'acct_in' : category)), accounting),
    }
  }
  const counterSeq = Math.max(0, ...[...table.counters.keys()].map((n) => (/^r(\d+)$/.exec(n) ? Number(n.slice(1)) : 0)))
  return {
    chains: { forward: chain('forward'), input: chain('input'), output: chain('output'), accounting: chain('accounting') },
    timeouts: timeoutsOf(table, DEFAULT_TIMEOUTS),
    counterSeq,
  }
}
