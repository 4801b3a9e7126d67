// An owned table as a file for /etc/nftables.conf: loading it replaces the
// table whole (so it can be loaded again), counters take one line each,
// and every rule, chain and entry says which script line made it.
import { type NftRule, type NftTable, RECORDS_CHAIN } from './ir.ts'
import { chainBlock, tableBlocks } from './text.ts'
import { GENERATION } from './transaction.ts'

export interface Origins {
  /** Counter name, or an entry's record -> "FILE:LINE" of the command that made the rule or entry. */
  readonly rules: ReadonlyMap<string, string>
  /** Chain name -> "FILE:LINE" of the command that made the chain. */
  readonly chains: ReadonlyMap<string, string>
}

const origin = (where: string | undefined): string => (where === undefined ? '' : ` # ${where}`)

const counterLines = (names: readonly string[]): string[] =>
  names.length
    ? [['\t# Counters named in the rules: the legacy listings show their values.', ...names.map((c) => `\tcounter ${c} { }`)].join('\n')]
    : []

export const annotatedTableText = (table: NftTable, origins: Origins): string => {
  const id = `${table.family} ${table.name}`
  const ruleOrigin =
    (inRecords: boolean) =>
    (rule: NftRule): string => {
      const key = inRecords ? rule.comment : rule.counter
      return origin(key === undefined ? undefined : origins.rules.get(key))
    }
  // A file of entries has always declared the generation set; a rule table gets it from its first commit.
  const declared = table.records === undefined ? table : { ...table, sets: [GENERATION, ...table.sets] }
  const blocks = tableBlocks(
    declared,
    counterLines,
    (c) => chainBlock(c, { chain: origin(origins.chains.get(c.name)), rule: ruleOrigin(table.records !== undefined && c.name === RECORDS_CHAIN) }),
    (counter) => origin(origins.rules.get(counter)),
  )
  return `table ${id}\ndelete table ${id}\ntable ${id} {\n${blocks.join('\n\n')}\n}\n`
}
