// The read-free append: `ipchains -A input|forward|output ...` as a
// transaction that only adds (a new counter and the rule at the end of the
// chain's rules), sent without reading the table first. It succeeds exactly
// when the normal path would have appended the same rule: the table, the
// rules chain and any helper chain it jumps to (masq, tos_*, mark_*) must
// exist, or the kernel refuses the whole transaction and the caller falls
// back to the normal path (read, execute, compare-and-swap).
//
// Nothing is lost to a concurrent command: the others edit the kernel by
// rule handle, so a rule appended meanwhile stays where it was put.
import { ruleText } from '../nft/text.ts'
import { type Context, TABLE_NAME, appendedRule, rulesChainName } from './render.ts'
import { isBuiltin, normaliseRule } from './model.ts'
import { expandRules } from './execute.ts'
import { CMD } from './parse.ts'
import type { Command } from './validate.ts'

/** The transaction, or undefined when this command needs the normal path. */
export const fastAppendText = (cmd: Command, newCounter: () => string): string | undefined => {
  const chain = cmd.inv.chain ?? ''
  if (cmd.inv.command !== CMD.APPEND || !isBuiltin(chain)) return undefined
  const id = `ip ${TABLE_NAME}`
  const lines: string[] = []
  const rules = expandRules(cmd)
  for (const rule of rules) {
    const counter = newCounter()
    // As the kernel stores it (kernel.ts does the same).
    const nft = appendedRule(normaliseRule(rule), counter, chain as Context)
    if (!nft) return undefined
    lines.push(`create counter ${id} ${counter}`, ...nft.map((r) => `add rule ${id} ${rulesChainName(chain)} ${ruleText(r)}`))
  }
  return `${lines.join('\n')}\n`
}
