// An owned table as a file for /etc/nftables.conf: loading it replaces the
// table whole (so it can be loaded again), counters take one line each,
// and every rule and chain says which script line made it.
import type { NftChain, NftTable } from './ir.ts'
import { quote, ruleText } from './text.ts'

export interface Origins {
  /** Counter name -> "FILE:LINE" of the command that made the rule. */
  readonly rules: ReadonlyMap<string, string>
  /** Chain name -> "FILE:LINE" of the command that made the chain. */
  readonly chains: ReadonlyMap<string, string>
}

const origin = (where: string | undefined): string => (where === undefined ? '' : ` # ${where}`)

const chainText = (chain: NftChain, origins: Origins): string => {
  const lines = [`\tchain ${chain.name} {${origin(origins.chains.get(chain.name))}`]
  if (chain.base) {
    const { type, hook, priority, policy } = chain.base
    lines.push(`\t\ttype ${type} hook ${hook} priority ${priority}; policy ${policy};`)
  }
  if (chain.comment !== undefined) lines.push(`\t\tcomment ${quote(chain.comment)}`)
  for (const rule of chain.rules) lines.push(`\t\t${ruleText(rule)}${origin(rule.counter === undefined ? undefined : origins.rules.get(rule.counter))}`)
  lines.push('\t}')
  return lines.join('\n')
}

export const annotatedTableText = (table: NftTable, origins: Origins): string => {
  const id = `${table.family} ${table.name}`
  const blocks: string[] = []
  if (table.comment !== undefined) blocks.push(`\tcomment ${quote(table.comment)}`)
  for (const set of table.sets) {
    const elements = set.elements.length ? `\n\t\telements = { ${set.elements.join(', ')} }` : ''
    blocks.push(`\tset ${set.name} {\n\t\ttype ${set.type}${elements}\n\t}`)
  }
  if (table.counters.length)
    blocks.push(['\t# Counters named in the rules: the legacy listings show their values.', ...table.counters.map((c) => `\tcounter ${c} { }`)].join('\n'))
  for (const t of table.ctTimeouts) {
    const policy = t.policy.map(([state, seconds]) => `${state} : ${seconds}`).join(', ')
    blocks.push(`\tct timeout ${t.name} {\n\t\tprotocol ${t.protocol}\n\t\tl3proto ip\n\t\tpolicy = { ${policy} }\n\t}`)
  }
  for (const chain of table.chains) blocks.push(chainText(chain, origins))
  return `table ${id}\ndelete table ${id}\ntable ${id} {\n${blocks.join('\n\n')}\n}\n`
}
