// What `legacyfw translate` tells the user about an ipfwadm rule set: the
// places where nftables makes the translation behave differently from 2.0
// (docs/divergences.md, ipfwadm section), by the counter of the rule.
import { addrToDotted } from '../common/inet.ts'
import { type Category, type Rule, type State, CATEGORIES, FW, KIND, kindOf } from './model.ts'
import { viaSetName } from './via.ts'

const SEE = 'see docs/divergences.md'

const ruleNotes = (rule: Rule, category: Category): string[] => {
  const notes: string[] = []
  const accepts = (rule.flg & FW.ACCEPT) !== 0
  if (category === 'output' && !accepts && rule.flg & FW.ICMPRPL) notes.push(`reject in the output list drops instead (${SEE})`)
  if (category === 'forward' && accepts && rule.flg & FW.MASQ) notes.push(`masquerading is decided on a connection's first packet (${SEE})`)
  if (category === 'input' && accepts && rule.flg & FW.REDIR)
    notes.push(`-r is decided on a connection's first packet; other protocols than TCP and UDP go to the interface's address (${SEE})`)
  if (rule.flg & FW.PRN) notes.push(`-o lines are printed by legacyfw runtime: legacyfw-runtime.service must run where the file is loaded (${SEE})`)
  if (rule.via !== 0)
    notes.push(
      `-V ${addrToDotted(rule.via)} matches the set ${viaSetName(rule.via)}, filled with the translating sandbox's interfaces; ` +
        `after nft -f of this file the first ipfwadm command, or its via watcher, brings it up to date for this host (${SEE})`,
    )
  if (category === 'accounting' && kindOf(rule) !== KIND.ALL && kindOf(rule) !== KIND.ICMP && rule.nsp + rule.ndp > 0)
    notes.push(`accounting counts a fragmented packet once, reassembled; 2.0 counted each fragment (${SEE})`)
  return notes
}

/** Divergence notes by counter name. */
export const ipfwadmNotes = (state: State): Map<string, string[]> => {
  const notes = new Map<string, string[]>()
  for (const category of CATEGORIES)
    for (const e of state.chains[category].entries) {
      const found = ruleNotes(e.rule, category)
      if (found.length) notes.set(e.counter, found)
    }
  return notes
}
