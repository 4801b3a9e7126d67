// ipchains' output formats: the -L table, the -v echo of rules ("no table"
// format) and the -M -L masquerading table (print_firewall, list_entries,
// print_masq in the original).
import { addrToDotted, maskSuffix } from '../common/inet.ts'
import { type ListNames, anyName } from '../common/listnames.ts'
import type { MasqEntry } from '../common/masq.ts'
import { hexByte, masqExpiry, pad, roundedCount } from '../common/printf.ts'
import { icmpNameFor } from './icmp.ts'
import { type Chain, type Counters, type PortRange, type Rule, type State, F, INV, PROTO, references } from './model.ts'
import { FLAG_OPTIONS, RULE_FLAG_LETTERS, type RuleFlagLetter, inverseOf } from './parse.ts'

export const FMT = {
  NUMERIC: 0x0001,
  NOCOUNTS: 0x0002,
  KILOMEGAGIGA: 0x0004,
  OPTIONS: 0x0008,
  NOTABLE: 0x0010,
  HEADER: 0x0020,
  NOTARGET: 0x0040,
  VIA: 0x0080,
  NONEWLINE: 0x0100,
  DELTAS: 0x0200,
  TOS: 0x0400,
  MARK: 0x0800,
  NETLINK: 0x1000,
  LINENUMBERS: 0x2000,
} as const

/** The format of the -v echo before each kernel call. */
export const FMT_PRINT_RULE = FMT.NOCOUNTS | FMT.OPTIONS | FMT.TOS | FMT.VIA | FMT.NUMERIC | FMT.NOTABLE | FMT.MARK | FMT.NETLINK

const protoName = (names: ListNames, proto: number): string | undefined => {
  if (proto !== 0) {
    const name = names.proto(proto)
    if (name) return name
  }
  return { 0: 'all', 6: 'tcp', 17: 'udp', 1: 'icmp' }[proto]
}

const portText = (names: ListNames, numeric: boolean, port: number, proto: number): string => {
  const service = numeric || (proto !== PROTO.TCP && proto !== PROTO.UDP) ? undefined : names.service(port, proto === PROTO.TCP ? 'tcp' : 'udp')
  return service ?? String(port)
}

const rangeText = (names: ListNames, numeric: boolean, range: PortRange, proto: number): string => {
  if (range[0] === 0 && range[1] === 0xffff) return numeric ? '*' : 'any'
  if (range[0] === range[1]) return portText(names, numeric, range[0], proto)
  return `${portText(names, numeric, range[0], proto)}:${portText(names, numeric, range[1], proto)}`
}

// A flag that a '!' may invert takes two characters: '!' or '-', then its letter or '-'.
const flagColumn = (rule: Rule, letter: RuleFlagLetter): string => {
  const { option, flag } = FLAG_OPTIONS[letter]
  const inverse = inverseOf(option)
  return (inverse ? (rule.invflg & inverse ? '!' : '-') : '') + (rule.flg & flag ? letter : '-')
}

const headerLine = (format: number): string => {
  const table = !(format & FMT.NOTABLE)
  const col = (width: number, text: string): string => (table ? `${pad(text, width)} ` : `${text} `)
  let line = ''
  if (format & FMT.LINENUMBERS) line += col(-4, 'num')
  if (!(format & FMT.NOCOUNTS)) {
    const wide = !(format & FMT.KILOMEGAGIGA)
    line += col(wide ? 8 : 5, 'pkts') + col(wide ? 10 : 5, 'bytes')
  }
  if (!(format & FMT.NOTARGET)) line += col(-9, 'target')
  line += ' prot '
  if (format & FMT.OPTIONS) line += 'opt    '
  if (format & FMT.TOS) line += 'tosa tosx '
  if (format & FMT.VIA) line += table ? ` ${pad('ifname', -10)} ` : 'ifname '
  if (format & FMT.MARK) line += col(-10, 'mark')
  if (format & FMT.NETLINK) line += col(-7, 'outsize')
  line += table ? ` ${pad('source', -20)} ` : 'source '
  line += table ? ` ${pad('destination', -20)} ` : 'destination '
  return `${line} ports\n`
}

const counterText = (n: number, format: number, wideWidth: number): string => {
  if (format & FMT.NOTABLE) return `${n} `
  return format & FMT.KILOMEGAGIGA ? roundedCount(n, true) : `${pad(String(n), wideWidth)} `
}

const addressText = (names: ListNames, numeric: boolean, addr: number, mask: number): string =>
  (numeric ? addrToDotted(addr) : anyName(names, addr)) + maskSuffix(mask)

/** print_firewall(): one rule (with the header first when FMT.HEADER is set). */
export const formatRule = (rule: Rule, num: number, counts: Counters, format: number, names: ListNames): string => {
  const table = !(format & FMT.NOTABLE)
  const numeric = (format & FMT.NUMERIC) !== 0
  const inv = (bit: number, yes: string, no: string): string => (rule.invflg & bit ? yes : no)
  let line = format & FMT.HEADER ? headerLine(format) : ''

  if (format & FMT.LINENUMBERS) line += table ? `${pad(String(num), -4)} ` : `${num} `
  if (!(format & FMT.NOCOUNTS)) line += counterText(counts.packets, format, 8) + counterText(counts.bytes, format, 10)
  if (!(format & FMT.NOTARGET)) line += table ? `${pad(rule.label || '-', -9)} ` : `${rule.label || '-'} `

  line += inv(INV.PROTO, '!', ' ')
  const proto = protoName(names, rule.proto) ?? String(rule.proto)
  line += table ? pad(proto, -5) : `${proto} `

  if (format & FMT.OPTIONS) {
    if (!table) line += 'opt    '
    line += `${RULE_FLAG_LETTERS.map((letter) => flagColumn(rule, letter)).join('')} `
  }
  if (format & FMT.TOS) line += `${table ? '' : 'tos '}${hexByte(rule.tosand)} ${hexByte(rule.tosxor)} `
  if (format & FMT.VIA) {
    const name = rule.flg & F.WILDIF && rule.vianame ? `${rule.vianame}+` : rule.vianame
    const shown = name || (numeric ? '*' : 'any')
    line += inv(INV.VIA, '!', ' ') + (table ? `${pad(shown, -10, 16)} ` : `via ${shown.slice(0, 16)} `)
  }
  if (format & FMT.MARK) {
    const hex = rule.mark.toString(16)
    if (rule.flg & F.MARKABS || rule.mark !== 0) line += table ? `0x${pad(hex, -10)} ` : `mark 0x${hex} `
    else line += table ? ' '.repeat(11) : ''
  }
  if (format & FMT.NETLINK) {
    if (rule.flg & F.NETLINK && rule.outputsize !== 0xffff) line += table ? `${pad(String(rule.outputsize), -7)} ` : `outsize ${rule.outputsize} `
    else line += table ? ' '.repeat(8) : ''
  }
  if (!table) line += '  '

  line += inv(INV.SRCIP, '!', ' ')
  const src = rule.smsk === 0 && !numeric ? 'anywhere' : addressText(names, numeric, rule.src, rule.smsk)
  line += table ? `${pad(src, -20)} ` : `${src} `
  const dst = rule.dmsk === 0 && !numeric ? 'anywhere' : addressText(names, numeric, rule.dst, rule.dmsk)
  line += (table ? '' : '-> ') + inv(INV.DSTIP, '!', '') + (table ? pad(dst, -20) : dst)
  if (!table) line += '  '

  const newline = format & FMT.NONEWLINE ? '' : '\n'
  if (rule.proto !== PROTO.TCP && rule.proto !== PROTO.UDP && rule.proto !== PROTO.ICMP) return `${line}  n/a${newline}`
  if (rule.proto === PROTO.ICMP && !(rule.invflg & (INV.SRCPT | INV.DSTPT)) && !numeric) {
    const name = icmpNameFor(rule.spts, rule.dpts)
    if (name) return `${line}  ${name}${newline}`
  }
  line += inv(INV.SRCPT, ' !', '  ') + rangeText(names, numeric, rule.spts, rule.proto)
  line += ' -> ' + inv(INV.DSTPT, ' !', '  ') + rangeText(names, numeric, rule.dpts, rule.proto)
  if (rule.label === 'REDIRECT') {
    line += table ? ' => ' : ''
    line += rule.redirpt === 0 ? (numeric ? ' *' : ' any') : portText(names, numeric, rule.redirpt, rule.proto)
  }
  return line + newline
}

export interface ListOptions {
  readonly verbose: boolean
  readonly numeric: boolean
  readonly exact: boolean
  readonly lineNumbers: boolean
}

const listFormat = (o: ListOptions): number =>
  FMT.OPTIONS |
  (o.verbose ? FMT.TOS | FMT.VIA | FMT.MARK | FMT.NETLINK : FMT.NOCOUNTS) |
  (o.numeric ? FMT.NUMERIC : 0) |
  (o.exact ? 0 : FMT.KILOMEGAGIGA) |
  (o.lineNumbers ? FMT.LINENUMBERS : 0)

const chainTitle = (state: State, chain: Chain, verbose: boolean): string => {
  if (!chain.policy) return `Chain ${chain.name} (${references(state, chain.name)} references):\n`
  const counts = verbose ? `: ${chain.policyCounts.packets} packets, ${chain.policyCounts.bytes} bytes` : ''
  return `Chain ${chain.name} (policy ${chain.policy}${counts}):\n`
}

/** list_entries() for the chains given (all of them, or the named one). */
export const formatListing = (state: State, chains: readonly Chain[], o: ListOptions, names: ListNames): string =>
  chains
    .map((chain) => {
      const format = listFormat(o)
      const rules = chain.entries.map((e, i) => formatRule(e.rule, i + 1, e.counts, i === 0 ? format | FMT.HEADER : format, names))
      return chainTitle(state, chain, o.verbose) + rules.join('')
    })
    .join('')

/** Every address a listing of these chains shows by name. */
export const listedAddresses = (chains: readonly Chain[]): number[] =>
  chains.flatMap((c) => c.entries.flatMap((e) => [...(e.rule.smsk ? [e.rule.src] : []), ...(e.rule.dmsk ? [e.rule.dst] : [])]))

/** list_masq(): the title, then the table if there are entries. */
export const formatMasq = (entries: readonly MasqEntry[], numeric: boolean, verbose: boolean, names: ListNames): string => {
  let text = 'IP masquerading entries\n'
  entries.forEach((m, i) => {
    if (i === 0) {
      text += `prot ${pad('expire', -8)} ${verbose ? `${pad('initseq', 10)} delta prevd ` : ''}`
      text += `${pad('source', -20)} ${pad('destination', -20)} ports\n`
    }
    text += `${pad(m.proto, -5)}${masqExpiry(m.expires)} `
    if (verbose) text += `${pad(String(m.initseq), 10)} ${pad(String(m.delta), 5)} ${pad(String(m.pdelta), 5)} `
    const addr = (a: number): string => (numeric ? addrToDotted(a) : anyName(names, a))
    text += `${pad(addr(m.src), -20)} ${pad(addr(m.dst), -20)} `
    const proto = m.proto === 'TCP' ? PROTO.TCP : m.proto === 'UDP' ? PROTO.UDP : 0
    const port = (p: number): string => (numeric || !proto ? String(p) : portText(names, false, p, proto))
    text += `${port(m.sport)} (${m.mport}) -> ${port(m.dport)}\n`
  })
  return text
}
