// The read-free append: `ipfwadm -X -a ...` as a transaction that only adds
// (new counters and the rules at the end of the rules chains), sent without
// reading the table. The kernel refuses it whole when something it refers
// to is missing (the table, a masq or TOS helper chain), and the caller
// then takes the normal path. See ipchains/fastpath.ts.
import { ruleText } from '../nft/text.ts'
import { expandRules } from './execute.ts'
import { storedRule } from './kernel.ts'
import { type Category, ZERO } from './model.ts'
import { CMD } from './parse.ts'
import { TABLE_NAME, appendedRules } from './render.ts'
import type { Command } from './validate.ts'

/** The transaction, or undefined when this command needs the normal path. */
export const fastAppendText = (cmd: Command, newCounter: () => string): string | undefined => {
  if (cmd.inv.command !== CMD.APPEND || cmd.category === undefined) return undefined
  const id = `ip ${TABLE_NAME}`
  const lines: string[] = []
  for (const rule of expandRules(cmd)) {
    const counter = newCounter()
    const chains = appendedRules({ rule: storedRule(rule), counter, counts: ZERO }, cmd.category as Category)
    if (!chains) return undefined
    lines.push(`create counter ${id} ${counter}`)
    for (const [chain, rules] of chains) lines.push(...rules.map((r) => `add rule ${id} ${chain} ${ruleText(r)}`))
  }
  return `${lines.join('\n')}\n`
}
