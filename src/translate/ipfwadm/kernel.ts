// The list operations of the Linux 2.0 kernel (net/ipv4/ip_fw.c), as pure
// functions on the state: same rules, same errno on failure.
import { type Category, type Chain, type Entry, type Rule, type State, ZERO } from './model.ts'

export type KernelResult = { readonly ok: true; readonly state: State } | { readonly ok: false; readonly errno: 'EINVAL' }

const withChain = (state: State, category: Category, chain: Chain): State => ({
  ...state,
  chains: { ...state.chains, [category]: chain },
})

/** The kernel keeps TOS bit 0 as it is, whatever the masks say. */
export const storedRule = (rule: Rule): Rule => ({ ...rule, tosand: rule.tosand | 0x01, tosxor: rule.tosxor & 0xfe })

// A new rule's counter id was never used in this table, so a named counter
// object is never inherited from a deleted rule.
const newEntry = (state: State, rule: Rule): { state: State; entry: Entry } => {
  const counterSeq = state.counterSeq + 1
  return { state: { ...state, counterSeq }, entry: { rule: storedRule(rule), counter: `r${counterSeq}`, counts: ZERO } }
}

export const addRule = (state: State, category: Category, rule: Rule, atHead: boolean): State => {
  const chain = state.chains[category]
  const added = newEntry(state, rule)
  const entries = atHead ? [added.entry, ...chain.entries] : [...chain.entries, added.entry]
  return withChain(added.state, category, { ...chain, entries })
}

/** Delete compares everything but the TOS masks and the counters. */
export const sameRuleForDelete = (a: Rule, b: Rule): boolean =>
  a.src === b.src &&
  a.dst === b.dst &&
  a.smsk === b.smsk &&
  a.dmsk === b.dmsk &&
  a.via === b.via &&
  a.flg === b.flg &&
  a.nsp === b.nsp &&
  a.ndp === b.ndp &&
  a.pts.length === b.pts.length &&
  a.pts.every((p, i) => p === b.pts[i]) &&
  a.vianame === b.vianame

export const deleteRule = (state: State, category: Category, rule: Rule): KernelResult => {
  const chain = state.chains[category]
  const at = chain.entries.findIndex((e) => sameRuleForDelete(e.rule, rule))
  if (at === -1) return { ok: false, errno: 'EINVAL' }
  return { ok: true, state: withChain(state, category, { ...chain, entries: chain.entries.filter((_, i) => i !== at) }) }
}

export const flush = (state: State, category: Category): State => withChain(state, category, { ...state.chains[category], entries: [] })

export const zero = (state: State, category: Category): State => {
  const chain = state.chains[category]
  return withChain(state, category, { ...chain, entries: chain.entries.map((e) => ({ ...e, counts: ZERO })) })
}

export const setPolicy = (state: State, category: Category, policy: number): State =>
  withChain(state, category, { ...state.chains[category], policy })
