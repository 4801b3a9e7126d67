// nft -f syntax for the IR. nft 1.0.6 quoted strings have no escapes, so
// text that may contain a double quote is encoded by the caller.
import type { NftChain, NftRule, NftTable } from './ir.ts'

export const quote = (text: string): string => {
  if (text.includes('"')) throw new Error(`nft string cannot contain a double quote: ${text}`)
  return `"${text}"`
}

export const ruleText = (rule: NftRule): string =>
  [
    ...rule.matches,
    ...(rule.counter === undefined ? [] : [`counter name ${quote(rule.counter)}`]),
    ...rule.stmts,
    ...(rule.comment === undefined ? [] : [`comment ${quote(rule.comment)}`]),
  ].join(' ')

const chainText = (chain: NftChain): string => {
  const lines = [`\tchain ${chain.name} {`]
  if (chain.base) {
    const { type, hook, priority, policy } = chain.base
    lines.push(`\t\ttype ${type} hook ${hook} priority ${priority}; policy ${policy};`)
  }
  if (chain.comment !== undefined) lines.push(`\t\tcomment ${quote(chain.comment)}`)
  for (const rule of chain.rules) lines.push(`\t\t${ruleText(rule)}`)
  lines.push('\t}')
  return lines.join('\n')
}

/** The `table ... { }` block declaring everything in the table. */
export const tableText = (table: NftTable): string => {
  const blocks: string[] = []
  if (table.comment !== undefined) blocks.push(`\tcomment ${quote(table.comment)}`)
  for (const set of table.sets) {
    const elements = set.elements.length ? `\n\t\telements = { ${set.elements.join(', ')} }` : ''
    blocks.push(`\tset ${set.name} {\n\t\ttype ${set.type}${elements}\n\t}`)
  }
  for (const counter of table.counters) blocks.push(`\tcounter ${counter} {\n\t}`)
  for (const t of table.ctTimeouts) {
    const policy = t.policy.map(([state, seconds]) => `${state} : ${seconds}`).join(', ')
    blocks.push(`\tct timeout ${t.name} {\n\t\tprotocol ${t.protocol}\n\t\tl3proto ip\n\t\tpolicy = { ${policy} }\n\t}`)
  }
  for (const chain of table.chains) blocks.push(chainText(chain))
  return `table ${table.family} ${table.name} {\n${blocks.join('\n\n')}\n}\n`
}
