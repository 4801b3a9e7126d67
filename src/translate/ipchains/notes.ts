// What `legacyfw translate` tells the user about an ipchains rule set: the
// places where nftables makes the translation behave differently from 2.2
// (docs/divergences.md), by the counter of the rule concerned, and the
// saved-file line each rule came from.
import { type Rule, type State, F, INV, findChain, isBuiltin, isSpecialTarget } from './model.ts'
import { policyCounter } from './render.ts'

const SEE = 'see docs/divergences.md'

/** User chains reachable from a built-in chain (through any number of jumps). */
const reachableFrom = (state: State, root: string): Set<string> => {
  const seen = new Set<string>()
  const todo = [root]
  while (todo.length) {
    const chain = findChain(state, todo.pop() as string)
    for (const e of chain?.entries ?? []) {
      const target = e.rule.label
      if (target === '' || isSpecialTarget(target) || isBuiltin(target) || seen.has(target)) continue
      seen.add(target)
      todo.push(target)
    }
  }
  return seen
}

const ruleNotes = (rule: Rule, fromOutput: boolean): string[] => {
  const notes: string[] = []
  if (rule.flg & F.FRAG) notes.push(`-f never matches: fragments are reassembled before the input chain (${SEE})`)
  if (rule.label === 'REJECT' && fromOutput) notes.push(`REJECT reached from output drops instead (${SEE})`)
  if (rule.label === 'MASQ') notes.push(`MASQ is decided on a connection's first packet (${SEE})`)
  if (rule.label === 'REDIRECT')
    notes.push(`REDIRECT is decided on a connection's first packet and the local socket sees the gateway's address (${SEE})`)
  if (rule.flg & F.PRN) notes.push(`-l lines are printed by legacyfw runtime: legacyfw-runtime.service must run where the file is loaded (${SEE})`)
  if (rule.flg & F.NETLINK) notes.push(`-o copies packets to nflog group 0 (${SEE})`)
  if (/["\\]/.test(rule.vianame))
    notes.push(`interface name nftables cannot spell: the rule matches ${rule.invflg & INV.VIA ? 'everything' : 'nothing'} (${SEE})`)
  return notes
}

/** Divergence notes by counter name (rules, and the output policy). */
export const ipchainsNotes = (state: State): Map<string, string[]> => {
  const fromOutput = reachableFrom(state, 'output')
  fromOutput.add('output')
  const notes = new Map<string, string[]>()
  for (const chain of state.chains)
    for (const e of chain.entries) {
      const found = ruleNotes(e.rule, fromOutput.has(chain.name))
      if (found.length) notes.set(e.counter, found)
    }
  if (findChain(state, 'output')?.policy === 'REJECT') notes.set(policyCounter('output'), [`policy REJECT on output drops instead (${SEE})`])
  return notes
}

/**
 * The line of an ipchains-save file each rule came from: the n-th `-A CHAIN`
 * line of a chain made its n-th rule (a restore appends in file order).
 * Chain headers (`:CHAIN POLICY`) give the policy lines.
 */
export const savedRuleLines = (text: string, state: State): Map<string, number> => {
  const lines = new Map<string, number>()
  const appends = new Map<string, number[]>()
  text.split('\n').forEach((line, i) => {
    const words = line.trim().split(/[ \t]+/)
    if (words[0]?.startsWith(':') && isBuiltin(words[0].slice(1))) lines.set(policyCounter(words[0].slice(1)), i + 1)
    if (words[0] === '-A' && words[1] !== undefined) appends.set(words[1], [...(appends.get(words[1]) ?? []), i + 1])
  })
  for (const chain of state.chains)
    chain.entries.forEach((e, n) => {
      const line = appends.get(chain.name)?.[n]
      if (line !== undefined) lines.set(e.counter, line)
    })
  return lines
}
