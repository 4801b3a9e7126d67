// The owned tables of ipautofw (`ip legacyfw_ipautofw`) and ipmasqadm
// (`ip legacyfw_ipmasqadm`): the legacy entries as records (comments of
// rules in a chain nothing jumps to, in kernel list order), dynamic maps the
// packet path writes (what autofw learns), and the chains that act.
//
// A command rewrites the chains and records in one transaction but keeps
// the maps of entries that stay, so what the packet path learned survives.
// Rules whose anonymous counter tells how far a preference rotation has got
// carry a comment tag; the listing reads those counters back.

export const GENERATION_SET = 'generation'
export const RECORDS_CHAIN = 'records'
/**
 * ct label of connections these tables forward to an internal host (2.0/2.2
 * de-masqueraded them): the legacy forward chains let them through.
 */
export const FORWARDED_LABEL = 8
/** ct labels that ipchains (10) and ipfwadm (11) set on connections they masquerade. */
export const MASQ_LABELS = [10, 11] as const

export interface FwMap {
  readonly name: string
  readonly key: string
  readonly value: string
  /** Elements expire this many seconds after their last update. */
  readonly timeoutSeconds?: number
}

export interface FwChain {
  readonly name: string
  /** e.g. "type nat hook prerouting priority dstnat; policy accept;" */
  readonly base?: string
  readonly rules: readonly string[]
}

export interface FwTable {
  readonly name: string
  readonly comment: string
  /** One legacy entry per record, in the kernel's list order. */
  readonly records: readonly string[]
  readonly maps: readonly FwMap[]
  readonly chains: readonly FwChain[]
}

export interface MapElement {
  readonly key: string
  readonly value: string
  readonly expiresSeconds?: number
}

/** What a command needs back from the kernel. */
export interface FwKernel {
  readonly generation: number
  readonly records: readonly string[]
  readonly chains: readonly string[]
  readonly maps: ReadonlyMap<string, readonly MapElement[]>
  /** Packets counted by tagged rules, by tag. */
  readonly counts: ReadonlyMap<string, number>
}

const quote = (text: string): string => {
  if (text.includes('"')) throw new Error(`nft string cannot contain a double quote: ${text}`)
  return `"${text}"`
}

export const recordRule = (record: string): string => `continue comment ${quote(record)}`

/** A rule counting what it matches, read back by its tag. */
export const taggedRule = (matches: string, tag: string, stmts: string): string =>
  [matches, 'counter', stmts, `comment ${quote(tag)}`].filter((w) => w !== '').join(' ')

const mapBody = (m: FwMap): string[] => [
  `type ${m.key} : ${m.value}`,
  `flags dynamic${m.timeoutSeconds === undefined ? '' : ',timeout'}`,
  ...(m.timeoutSeconds === undefined ? [] : [`timeout ${m.timeoutSeconds}s`]),
]

const allChains = (t: FwTable): FwChain[] => [{ name: RECORDS_CHAIN, rules: t.records.map(recordRule) }, ...t.chains]

const tableBlocks = (t: FwTable, recordOrigin: (record: string) => string | undefined = () => undefined): string[] => {
  const blocks = [`\tcomment ${quote(t.comment)}`]
  for (const m of t.maps) blocks.push(`\tmap ${m.name} {\n${mapBody(m).map((l) => `\t\t${l}\n`).join('')}\t}`)
  for (const c of allChains(t)) {
    const rules = c.rules.map((r, i) => {
      const where = c.name === RECORDS_CHAIN ? recordOrigin(t.records[i] as string) : undefined
      return `\t\t${r}${where === undefined ? '' : ` # ${where}`}`
    })
    blocks.push([`\tchain ${c.name} {`, ...(c.base ? [`\t\t${c.base}`] : []), ...rules, '\t}'].join('\n'))
  }
  return blocks
}

/** The table as an nft file. */
export const tableText = (t: FwTable): string => `table ip ${t.name} {\n${tableBlocks(t).join('\n\n')}\n}\n`

/**
 * The table as a file for /etc/nftables.conf: loading it replaces the table
 * whole, with an empty generation set (the tools' next commit starts it),
 * and each record says which script line made it.
 */
export const annotatedFwTableText = (t: FwTable, recordOrigin: (record: string) => string | undefined): string => {
  const id = `ip ${t.name}`
  const generation = `\tset ${GENERATION_SET} {\n\t\ttype mark\n\t\tflags timeout\n\t\ttimeout 1h\n\t}`
  const [comment, ...rest] = tableBlocks(t, recordOrigin)
  return `table ${id}\ndelete table ${id}\ntable ${id} {\n${[comment, generation, ...rest].join('\n\n')}\n}\n`
}

/**
 * The transaction from what the kernel holds to `next`. `create element`
 * of the next generation fails if another command committed first.
 */
export const transactionText = (current: FwKernel | undefined, next: FwTable): string => {
  const id = `ip ${next.name}`
  const lines: string[] = []
  if (!current) lines.push(`create table ${id} { comment ${quote(next.comment)}; }`)
  if (!current) lines.push(`add set ${id} ${GENERATION_SET} { type mark; flags timeout; timeout 1h; }`)
  const existing = new Set(current?.chains ?? [])
  const wanted = allChains(next)
  const wantedNames = new Set(wanted.map((c) => c.name))
  for (const name of existing) lines.push(`flush chain ${id} ${name}`)
  for (const c of wanted) if (!existing.has(c.name)) lines.push(`add chain ${id} ${c.name}${c.base ? ` { ${c.base} }` : ''}`)
  for (const m of next.maps) if (!current?.maps.has(m.name)) lines.push(`add map ${id} ${m.name} { ${mapBody(m).join('; ')}; }`)
  for (const c of wanted) for (const r of c.rules) lines.push(`add rule ${id} ${c.name} ${r}`)
  for (const name of existing) if (!wantedNames.has(name)) lines.push(`delete chain ${id} ${name}`)
  const wantedMaps = new Set(next.maps.map((m) => m.name))
  for (const name of current?.maps.keys() ?? []) if (!wantedMaps.has(name)) lines.push(`delete map ${id} ${name}`)
  lines.push(`create element ${id} ${GENERATION_SET} { ${(current?.generation ?? 0) + 1} }`)
  return `${lines.join('\n')}\n`
}

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

const elementKey = (e: unknown): unknown => (isObject(e) && isObject(e['elem']) ? e['elem']['val'] : e)

const mapElement = (e: unknown): MapElement | undefined => {
  if (!Array.isArray(e)) return undefined
  const [key, value] = e as unknown[]
  const expires = isObject(key) && isObject(key['elem']) ? key['elem']['expires'] : undefined
  return { key: String(elementKey(key)), value: String(value), ...(typeof expires === 'number' ? { expiresSeconds: expires } : {}) }
}

/** The table from `nft -j list table ip NAME` output, or undefined if absent. */
export const fwKernelFromJson = (json: unknown, name: string): FwKernel | undefined => {
  const items = isObject(json) && Array.isArray(json['nftables']) ? json['nftables'] : []
  let found = false
  let generation = 0
  const records: string[] = []
  const chains: string[] = []
  const maps = new Map<string, MapElement[]>()
  const counts = new Map<string, number>()
  for (const item of items) {
    if (!isObject(item)) continue
    const [kind, body] = Object.entries(item)[0] ?? []
    if (!isObject(body) || body['family'] !== 'ip') continue
    if (kind === 'table') found ||= body['name'] === name
    if ((body['table'] ?? body['name']) !== name || kind === 'table') continue
    const elements: unknown[] = Array.isArray(body['elem']) ? body['elem'] : []
    if (kind === 'set' && body['name'] === GENERATION_SET)
      generation = Math.max(0, ...elements.map((e) => Number(elementKey(e))).filter(Number.isFinite))
    else if (kind === 'map') maps.set(String(body['name']), elements.map(mapElement).filter((m) => m !== undefined))
    else if (kind === 'chain') chains.push(String(body['name']))
    else if (kind === 'rule' && typeof body['comment'] === 'string') {
      if (body['chain'] === RECORDS_CHAIN) records.push(body['comment'])
      const exprs: unknown[] = Array.isArray(body['expr']) ? body['expr'] : []
      const counter = exprs.find((e): e is Json => isObject(e) && isObject(e['counter']))?.['counter']
      if (isObject(counter) && typeof counter['packets'] === 'number') counts.set(body['comment'], counter['packets'])
    }
  }
  return found ? { generation, records, chains, maps, counts } : undefined
}

/** The kernel's view of a table rendered in pure mode: nothing learned, nothing counted. */
export const fwKernelFromTable = (t: FwTable, generation: number): FwKernel => ({
  generation,
  records: t.records,
  chains: allChains(t).map((c) => c.name),
  maps: new Map(t.maps.map((m) => [m.name, []])),
  counts: new Map(),
})
