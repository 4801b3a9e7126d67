// What a listing needs from a table in the kernel, read from `nft -j list
// table` output (or derived from a rendered table in pure mode): chains in
// kernel order, each rule's comment and counter, named objects.
import { foldedChain } from './fold.ts'
import { type NftTable, RECORDS_CHAIN, chainsOf } from './ir.ts'

/** A table this project cannot read back (a record it did not write). */
export class DecodeError extends Error {}

export interface Counts {
  readonly packets: number
  readonly bytes: number
}

export interface KernelRule {
  /** The kernel's rule handle (absent for tables that were never loaded). */
  readonly handle?: number
  readonly comment?: string
  /** Name of the counter object the rule references. */
  readonly counter?: string
  /** An anonymous counter's values. */
  readonly counts?: Counts
  /** The chain the rule jumps to, if it does. */
  readonly jump?: string
}

export interface KernelChain {
  readonly name: string
  readonly rules: readonly KernelRule[]
}

/** An element the packet path wrote into a map. */
export interface MapElement {
  readonly key: string
  readonly value: string
  readonly expiresSeconds?: number
}

export interface KernelTable {
  readonly name: string
  readonly chains: readonly KernelChain[]
  readonly counters: ReadonlyMap<string, Counts>
  readonly ctTimeouts: readonly string[]
  /** Names of the ct helper objects (absent: none). */
  readonly ctHelpers?: readonly string[]
  readonly sets: ReadonlyMap<string, readonly string[]>
  readonly maps: ReadonlyMap<string, readonly MapElement[]>
}

/** A table of entries' records (see NftTable.records), undefined in a table of rules. */
export const recordsOf = (table: KernelTable | undefined): string[] | undefined =>
  table?.chains.find((c) => c.name === RECORDS_CHAIN)?.rules.flatMap((r) => (r.comment === undefined ? [] : [r.comment]))

/** Packets counted by the rules with an anonymous counter, by tag (their comment). */
export const talliesOf = (table: KernelTable | undefined): Map<string, number> =>
  new Map(
    table?.chains.flatMap((c) => c.rules.flatMap((r) => (r.comment !== undefined && r.counts ? [[r.comment, r.counts.packets] as const] : []))),
  )

type Json = Record<string, unknown>

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
const num = (v: unknown): number => (typeof v === 'number' ? v : 0)

const ruleFrom = (rule: Json): KernelRule => {
  const exprs = Array.isArray(rule['expr']) ? rule['expr'] : []
  const counterExpr = exprs.find((e): e is Json => isObject(e) && 'counter' in e)?.['counter']
  const comment = str(rule['comment'])
  const jump = exprs.find((e): e is Json => isObject(e) && isObject(e['jump']))?.['jump']
  const target = isObject(jump) ? str(jump['target']) : undefined
  return {
    ...(target === undefined ? {} : { jump: target }),
    ...(typeof rule['handle'] === 'number' ? { handle: rule['handle'] } : {}),
    ...(comment === undefined ? {} : { comment }),
    ...(typeof counterExpr === 'string' ? { counter: counterExpr } : {}),
    ...(isObject(counterExpr) && 'packets' in counterExpr
      ? { counts: { packets: num(counterExpr['packets']), bytes: num(counterExpr['bytes']) } }
      : {}),
  }
}

// Set elements list as plain values, or as {elem: {val, expires}} with
// timeouts; intervals as {prefix: {addr, len}} or {range: [lo, hi]}.
const elementValue = (e: unknown): string => {
  const inner = isObject(e) && isObject(e['elem']) ? e['elem']['val'] : e
  if (isObject(inner) && isObject(inner['prefix'])) return `${String(inner['prefix']['addr'])}/${String(inner['prefix']['len'])}`
  if (isObject(inner) && Array.isArray(inner['range'])) return inner['range'].map(String).join('-')
  return String(inner)
}

// Map elements list as [key, value], the key possibly {elem: {val, expires}}.
const mapElement = (e: unknown): MapElement | undefined => {
  if (!Array.isArray(e)) return undefined
  const [key, value] = e as unknown[]
  const expires = isObject(key) && isObject(key['elem']) ? key['elem']['expires'] : undefined
  return { key: elementValue(key), value: String(value), ...(typeof expires === 'number' ? { expiresSeconds: expires } : {}) }
}

const elementsOf = (body: Json): unknown[] => (Array.isArray(body['elem']) ? body['elem'] : [])

/** The named table from `nft -j list table ...` output, or undefined if absent. */
export const kernelTableFromJson = (json: unknown, family: string, name: string): KernelTable | undefined => {
  const items = isObject(json) && Array.isArray(json['nftables']) ? json['nftables'] : []
  const mine = (o: Json): boolean => o['family'] === family && (o['table'] ?? o['name']) === name
  let found = false
  const chains: { name: string; rules: KernelRule[] }[] = []
  const counters = new Map<string, Counts>()
  const ctTimeouts: string[] = []
  const ctHelpers: string[] = []
  const sets = new Map<string, string[]>()
  const maps = new Map<string, MapElement[]>()
  for (const item of items) {
    if (!isObject(item)) continue
    const [kind, body] = Object.entries(item)[0] ?? []
    if (!isObject(body)) continue
    if (kind === 'table' && body['family'] === family && body['name'] === name) found = true
    if (kind === 'table' || !mine(body)) continue
    const objName = str(body['name']) ?? ''
    if (kind === 'counter') counters.set(objName, { packets: num(body['packets']), bytes: num(body['bytes']) })
    else if (kind === 'ct timeout') ctTimeouts.push(objName)
    else if (kind === 'ct helper') ctHelpers.push(objName)
    else if (kind === 'set') sets.set(objName, elementsOf(body).map(elementValue))
    else if (kind === 'map')
      maps.set(
        objName,
        elementsOf(body)
          .map(mapElement)
          .filter((m) => m !== undefined),
      )
    else if (kind === 'chain') chains.push({ name: objName, rules: [] })
    else if (kind === 'rule') chains.find((c) => c.name === body['chain'])?.rules.push(ruleFrom(body))
  }
  return found ? { name, chains, counters, ctTimeouts, ...(ctHelpers.length ? { ctHelpers } : {}), sets, maps } : undefined
}

const jumpOf = (stmts: readonly string[]): { jump?: string } => {
  const target = stmts.map((s) => /^jump (\S+)$/.exec(s)?.[1]).find((t) => t !== undefined)
  return target === undefined ? {} : { jump: target }
}

/** What the kernel's packet path added to a table: counter values, map elements, tallies by tag. */
export interface Learned {
  readonly counters: ReadonlyMap<string, Counts>
  readonly maps?: ReadonlyMap<string, readonly MapElement[]>
  readonly tallies?: ReadonlyMap<string, number>
}

/** The kernel's view of a table this project rendered (pure mode). */
export const kernelTableFromNft = (table: NftTable, { counters, maps, tallies }: Learned): KernelTable => ({
  name: table.name,
  chains: chainsOf(table).map((c) => ({
    name: c.name,
    rules: c.rules.map((r) => ({
      ...jumpOf(r.stmts),
      ...(r.comment === undefined ? {} : { comment: r.comment }),
      ...(r.counter === undefined ? {} : { counter: r.counter }),
      ...(r.tally ? { counts: { packets: (r.comment === undefined ? undefined : tallies?.get(r.comment)) ?? 0, bytes: 0 } } : {}),
    })),
  })),
  counters: new Map(table.counters.map((n) => [n, counters.get(n) ?? { packets: 0, bytes: 0 }])),
  ctTimeouts: table.ctTimeouts.map((t) => t.name),
  ...(table.ctHelpers?.length ? { ctHelpers: table.ctHelpers.map((h) => h.name) } : {}),
  // The kernel lists names unquoted.
  sets: new Map(table.sets.map((s) => [s.name, s.elements.map((e) => e.replace(/^"(.*)"$/, '$1'))])),
  maps: new Map([
    ...(table.maps ?? []).map((m) => [m.name, maps?.get(m.name) ?? []] as const),
    ...(table.counterMaps ?? []).map((m) => [m.name, m.elements.map(([key, value]) => ({ key, value }))] as const),
  ]),
})

/**
 * A chain's rules with each fold rule (fold.ts) replaced by the records of
 * the rules it folds, so that decoders see one rule per legacy rule.
 */
export const unfoldedRules = (table: KernelTable, chain: KernelChain): KernelRule[] =>
  chain.rules.flatMap((r) => {
    const records = foldedChain(r.comment)
    return records === undefined ? [r] : (table.chains.find((c) => c.name === records)?.rules ?? [])
  })

/** Counter values from nft's text output ("counter NAME {" ... "packets N bytes M"). */
export const countersFromText = (text: string): Map<string, Counts> => {
  const counts = new Map<string, Counts>()
  let name: string | undefined
  for (const line of text.split('\n')) {
    const header = /^\s*counter (\S+) \{/.exec(line)
    if (header) name = header[1]
    const values = /^\s*packets (\d+) bytes (\d+)/.exec(line)
    if (values && name !== undefined) {
      counts.set(name, { packets: Number(values[1]), bytes: Number(values[2]) })
      name = undefined
    }
  }
  return counts
}
