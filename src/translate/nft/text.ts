// nft -f syntax for the IR. nft 1.0.6 quoted strings have no escapes, so
// text that may contain a double quote is encoded by the caller.
import {
  type NftChain,
  type NftCounterMap,
  type NftCtHelper,
  type NftCtTimeout,
  type NftMap,
  type NftRule,
  type NftSet,
  type NftTable,
  chainsOf,
} from './ir.ts'

export const quote = (text: string): string => {
  if (text.includes('"')) throw new Error(`nft string cannot contain a double quote: ${text}`)
  return `"${text}"`
}

export const ruleText = (rule: NftRule): string =>
  [
    ...rule.matches,
    ...(rule.counter === undefined ? [] : [`counter name ${quote(rule.counter)}`]),
    ...(rule.tally ? ['counter'] : []),
    ...rule.stmts,
    ...(rule.comment === undefined ? [] : [`comment ${quote(rule.comment)}`]),
  ].join(' ')

export const baseChainText = (chain: NftChain): string | undefined => {
  if (!chain.base) return undefined
  const { type, hook, priority, policy } = chain.base
  return `type ${type} hook ${hook} priority ${priority}; policy ${policy};`
}

export const timeoutPolicyText = (t: NftCtTimeout): string => t.policy.map(([state, seconds]) => `${state} : ${seconds}`).join(', ')

/** A map's declaration lines: type, flags, timeout. */
export const mapLines = (m: NftMap): string[] => [
  `${m.typeof ? 'typeof' : 'type'} ${m.key} : ${m.value}`,
  `flags dynamic${m.timeoutSeconds === undefined ? '' : ',timeout'}`,
  ...(m.timeoutSeconds === undefined ? [] : [`timeout ${m.timeoutSeconds}s`]),
]

/** A set's declaration lines: type, and the timeout of a set whose elements expire. */
export const setLines = (set: NftSet): string[] => {
  const flags = [...(set.dynamic ? ['dynamic'] : []), ...(set.timeout === undefined ? [] : ['timeout'])]
  return [
    `${set.typeof ? 'typeof' : 'type'} ${set.type}`,
    ...(flags.length ? [`flags ${flags.join(',')}`] : []),
    ...(set.timeout === undefined ? [] : [`timeout ${set.timeout}`]),
  ]
}

const setBlock = (set: NftSet): string => {
  const elements = set.elements.length ? `\n\t\telements = { ${set.elements.join(', ')} }` : ''
  return `\tset ${set.name} {\n${setLines(set)
    .map((l) => `\t\t${l}`)
    .join('\n')}${elements}\n\t}`
}

const mapBlock = (m: NftMap): string =>
  `\tmap ${m.name} {\n${mapLines(m)
    .map((l) => `\t\t${l}\n`)
    .join('')}\t}`

/** A counter map's declaration lines. */
export const counterMapLines = (m: NftCounterMap): string[] => [`type ${m.key} : counter`, 'flags interval']

/** A map element as nft text. */
export const counterElementText = ([key, counter]: readonly [string, string]): string => `${key} : ${quote(counter)}`

/** A counter map, one element a line, each followed by what `suffix` says about its counter. */
const counterMapBlock = (m: NftCounterMap, suffix: (counter: string) => string): string => {
  const elements = m.elements.map((e, i) => `\t\t\t${counterElementText(e)}${i < m.elements.length - 1 ? ',' : ''}${suffix(e[1])}`)
  const body = elements.length ? ['\t\telements = {', ...elements, '\t\t}'] : []
  return [`\tmap ${m.name} {`, ...counterMapLines(m).map((l) => `\t\t${l}`), ...body, '\t}'].join('\n')
}

const timeoutBlock = (t: NftCtTimeout): string =>
  `\tct timeout ${t.name} {\n\t\tprotocol ${t.protocol}\n\t\tl3proto ip\n\t\tpolicy = { ${timeoutPolicyText(t)} }\n\t}`

/** A ct helper's declaration body. */
export const helperText = (h: NftCtHelper): string => `type ${quote(h.type)} protocol ${h.protocol}; l3proto ip;`

const helperBlock = (h: NftCtHelper): string => `\tct helper ${h.name} {\n\t\t${helperText(h)}\n\t}`

export const chainBlock = (chain: NftChain, suffix: { chain?: string; rule?: (rule: NftRule) => string } = {}): string => {
  const base = baseChainText(chain)
  return [
    `\tchain ${chain.name} {${suffix.chain ?? ''}`,
    ...(base === undefined ? [] : [`\t\t${base}`]),
    ...(chain.comment === undefined ? [] : [`\t\tcomment ${quote(chain.comment)}`]),
    ...chain.rules.map((rule) => `\t\t${ruleText(rule)}${suffix.rule?.(rule) ?? ''}`),
    '\t}',
  ].join('\n')
}

/** The table's blocks between `table ... {` and `}`; how counters and chains are written is the caller's. */
export const tableBlocks = (
  table: NftTable,
  counters: (names: readonly string[]) => string[],
  chain: (c: NftChain) => string,
  element: (counter: string) => string = () => '',
): string[] => [
  ...(table.comment === undefined ? [] : [`\tcomment ${quote(table.comment)}`]),
  ...table.sets.map(setBlock),
  ...(table.maps ?? []).map(mapBlock),
  ...counters(table.counters),
  // After the counters: the elements name them.
  ...(table.counterMaps ?? []).map((m) => counterMapBlock(m, element)),
  ...table.ctTimeouts.map(timeoutBlock),
  ...(table.ctHelpers ?? []).map(helperBlock),
  ...chainsOf(table).map(chain),
]

/** The `table ... { }` block declaring everything in the table. */
export const tableText = (table: NftTable): string => {
  const blocks = tableBlocks(
    table,
    (names) => names.map((c) => `\tcounter ${c} {\n\t}`),
    (c) => chainBlock(c),
  )
  return `table ${table.family} ${table.name} {\n${blocks.join('\n\n')}\n}\n`
}
