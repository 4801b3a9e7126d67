// The chain operations of the Linux 2.2 kernel (net/ipv4/ip_fw.c), as pure
// functions on the state: same preconditions, same errno on failure.
import {
  type Chain,
  type Entry,
  type Policy,
  type Rule,
  type State,
  F,
  ZERO,
  findChain,
  isBuiltin,
  isSpecialTarget,
  normaliseRule,
  references,
} from './model.ts'

export type Errno = 'ENOENT' | 'EINVAL' | 'EEXIST' | 'EBUSY' | 'ENOTEMPTY'

export type KernelResult = { readonly ok: true; readonly state: State } | { readonly ok: false; readonly errno: Errno }

const fail = (errno: Errno): KernelResult => ({ ok: false, errno })

const replaceChain = (state: State, chain: Chain): State => ({
  ...state,
  chains: state.chains.map((c) => (c.name === chain.name ? chain : c)),
})

// A jump must name an existing user chain; built-in chains are not targets.
const targetExists = (state: State, label: string): boolean =>
  label === '' || isSpecialTarget(label) || (findChain(state, label) !== undefined && !isBuiltin(label))

// Every new rule gets a counter id never used before in this table, so a
// named counter object is never inherited from a deleted rule.
const withNewEntry = (state: State, rule: Rule): { state: State; entry: Entry } => {
  const counterSeq = state.counterSeq + 1
  return { state: { ...state, counterSeq }, entry: { rule: normaliseRule(rule), counter: `r${counterSeq}`, counts: ZERO } }
}

/** Insert at 1-based position `at` (append when at = length + 1). */
export const insertRule = (state: State, chainName: string, rule: Rule, at: number): KernelResult => {
  const chain = findChain(state, chainName)
  if (!chain || !targetExists(state, rule.label)) return fail('ENOENT')
  if (at !== 1 && at > chain.entries.length + 1) return fail('EINVAL')
  const added = withNewEntry(state, rule)
  const entries = [...chain.entries]
  entries.splice(at - 1, 0, added.entry)
  return { ok: true, state: replaceChain(added.state, { ...chain, entries }) }
}

export const appendRule = (state: State, chainName: string, rule: Rule): KernelResult => {
  const chain = findChain(state, chainName)
  if (!chain) return fail('ENOENT')
  return insertRule(state, chainName, rule, chain.entries.length + 1)
}

/** The replacement is a new rule with fresh counters. */
export const replaceRule = (state: State, chainName: string, rule: Rule, at: number): KernelResult => {
  const chain = findChain(state, chainName)
  if (!chain || !targetExists(state, rule.label)) return fail('ENOENT')
  if (at > chain.entries.length) return fail('EINVAL')
  const added = withNewEntry(state, rule)
  const entries = chain.entries.map((e, i) => (i === at - 1 ? added.entry : e))
  return { ok: true, state: replaceChain(added.state, { ...chain, entries }) }
}

export const deleteRuleAt = (state: State, chainName: string, at: number): KernelResult => {
  const chain = findChain(state, chainName)
  if (!chain || at > chain.entries.length) return fail('ENOENT')
  return { ok: true, state: replaceChain(state, { ...chain, entries: chain.entries.filter((_, i) => i !== at - 1) }) }
}

/** The fields delete-by-specification compares: everything but mark, MARKABS and TOS. */
export const sameRuleForDelete = (a: Rule, b: Rule): boolean =>
  a.src === b.src &&
  a.dst === b.dst &&
  a.smsk === b.smsk &&
  a.dmsk === b.dmsk &&
  (a.flg & ~F.MARKABS) === (b.flg & ~F.MARKABS) &&
  a.invflg === b.invflg &&
  a.proto === b.proto &&
  a.redirpt === b.redirpt &&
  a.spts[0] === b.spts[0] &&
  a.spts[1] === b.spts[1] &&
  a.dpts[0] === b.dpts[0] &&
  a.dpts[1] === b.dpts[1] &&
  a.outputsize === b.outputsize &&
  a.vianame === b.vianame &&
  a.label === b.label

/** The kernel converts the rule first, so an unknown jump target is ENOENT here too. */
export const deleteMatchingRule = (state: State, chainName: string, rule: Rule): KernelResult => {
  const chain = findChain(state, chainName)
  if (!chain || !targetExists(state, rule.label)) return fail('ENOENT')
  const wanted = normaliseRule(rule)
  const at = chain.entries.findIndex((e) => sameRuleForDelete(e.rule, wanted))
  if (at === -1) return fail('EINVAL')
  return deleteRuleAt(state, chainName, at + 1)
}

export const flushChain = (state: State, chainName: string): KernelResult => {
  const chain = findChain(state, chainName)
  if (!chain) return fail('ENOENT')
  return { ok: true, state: replaceChain(state, { ...chain, entries: [] }) }
}

/** Zeroes rule counters only; policy counters are never zeroed. */
export const zeroChain = (state: State, chainName: string): KernelResult => {
  const chain = findChain(state, chainName)
  if (!chain) return fail('ENOENT')
  const entries = chain.entries.map((e) => ({ ...e, counts: ZERO }))
  return { ok: true, state: replaceChain(state, { ...chain, entries }) }
}

export const createChain = (state: State, name: string): KernelResult => {
  if (findChain(state, name)) return fail('EEXIST')
  return { ok: true, state: { ...state, chains: [...state.chains, { name, policyCounts: ZERO, entries: [] }] } }
}

export const deleteChain = (state: State, name: string): KernelResult => {
  if (name === 'input') return fail('EBUSY')
  const chain = findChain(state, name)
  if (!chain) return fail('ENOENT')
  if (isBuiltin(name) || references(state, name) > 0) return fail('EBUSY')
  if (chain.entries.length > 0) return fail('ENOTEMPTY')
  return { ok: true, state: { ...state, chains: state.chains.filter((c) => c.name !== name) } }
}

export const setPolicy = (state: State, name: string, policy: Policy): KernelResult => {
  const chain = findChain(state, name)
  if (!chain) return fail('ENOENT')
  if (!isBuiltin(name) || (policy === 'MASQ' && name !== 'forward')) return fail('EINVAL')
  return { ok: true, state: replaceChain(state, { ...chain, policy }) }
}
