// ipfwadm's output formats: the -l table (print_firewall, list_entries),
// the -v echo of rules ("no table"), and -M -l (print_masq).
import { addrToDotted, maskSuffix } from '../common/inet.ts'
import { type ListNames, anyName } from '../common/listnames.ts'
import type { MasqEntry } from '../common/masq.ts'
import { hexByte, masqExpiry, pad, roundedCount } from '../common/printf.ts'
import { type Category, type Chain, type Counters, FW, KIND, KIND_NAMES, type Rule, kindOf, policyName } from './model.ts'
import { RULE_FLAG_LETTERS, flagOf } from './parse.ts'

export const FMT = {
  NUMERIC: 0x0001,
  NOCOUNTS: 0x0002,
  KILOMEGA: 0x0004,
  OPTIONS: 0x0008,
  NOTABLE: 0x0010,
  HEADER: 0x0020,
  NOKIND: 0x0040,
  VIA: 0x0080,
  DELTAS: 0x0200,
  TOS: 0x0400,
} as const

/** The -v echo before each add/delete. */
export const FMT_ECHO_RULE = FMT.NOCOUNTS | FMT.OPTIONS | FMT.TOS | FMT.VIA | FMT.NUMERIC | FMT.NOTABLE
/** The -v echo before each check. */
export const FMT_ECHO_CHECK = FMT.NOCOUNTS | FMT.NOKIND | FMT.VIA | FMT.NUMERIC | FMT.NOTABLE

const kindColumn = (rule: Rule, accounting: boolean): string => {
  const f = rule.flg
  if (accounting) return f & FW.ACCTIN ? 'in' : f & FW.ACCTOUT ? 'out' : 'i/o'
  if (f & FW.REDIR) return 'acc/r'
  if (f & FW.MASQ) return 'acc/m'
  if (f & FW.ACCEPT) return 'acc'
  return f & FW.ICMPRPL ? 'rej' : 'deny'
}

const serviceOf = (names: ListNames, numeric: boolean, port: number, kind: number): string => {
  const service = numeric || (kind !== KIND.TCP && kind !== KIND.UDP) ? undefined : names.service(port, kind === KIND.TCP ? 'tcp' : 'udp')
  return service ?? String(port)
}

// A port list: items separated by ',' but ':' between the two range slots.
const portList = (names: ListNames, numeric: boolean, ports: readonly number[], range: boolean, kind: number): string => {
  if (ports.length === 0) return numeric ? ' *' : ' any'
  return ports.map((p, i) => (i === 0 ? ' ' : range && i === 1 ? ':' : ',') + serviceOf(names, numeric, p, kind)).join('')
}

const headerLine = (format: number, accounting: boolean): string => {
  let line = ''
  if (!(format & FMT.NOCOUNTS)) line += format & FMT.KILOMEGA ? `${pad('pkts', 5)} ${pad('bytes', 5)} ` : `${pad('pkts', 8)} ${pad('bytes', 10)} `
  if (!(format & FMT.NOKIND)) line += accounting ? `${pad('dir', -3)} ` : `${pad('type', -5)} `
  line += 'prot '
  if (format & FMT.OPTIONS) line += 'opt  '
  if (format & FMT.TOS) line += 'tosa tosx '
  if (format & FMT.VIA) line += `${pad('ifname', -7)} ${pad('ifaddress', -15)} `
  return `${line}${pad('source', -20)} ${pad('destination', -20)} ports\n`
}

const counter = (n: number, format: number, width: number): string => {
  if (format & FMT.NOTABLE) return `${n} `
  return format & FMT.KILOMEGA ? roundedCount(n, false) : `${pad(String(n), width)} `
}

const address = (names: ListNames, numeric: boolean, addr: number, mask: number): string => {
  if (mask === 0 && !numeric) return 'anywhere'
  return (numeric ? addrToDotted(addr) : anyName(names, addr)) + maskSuffix(mask)
}

/** print_firewall() */
export const formatRule = (rule: Rule, counts: Counters, format: number, accounting: boolean, names: ListNames): string => {
  const table = !(format & FMT.NOTABLE)
  const numeric = (format & FMT.NUMERIC) !== 0
  const col = (text: string, width: number): string => (table ? `${pad(text, width)} ` : `${text} `)
  const kind = kindOf(rule)
  const f = rule.flg
  let line = format & FMT.HEADER ? headerLine(format, accounting) : ''
  if (!(format & FMT.NOCOUNTS)) line += counter(counts.packets, format, 8) + counter(counts.bytes, format, 10)
  if (!(format & FMT.NOKIND)) line += col(kindColumn(rule, accounting), accounting ? -3 : -5)
  line += table ? pad(KIND_NAMES[kind] ?? 'all', -5) : `${KIND_NAMES[kind]} `
  if (format & FMT.OPTIONS) {
    if (!table) line += 'opt '
    line += `${RULE_FLAG_LETTERS.map((letter) => (f & flagOf(letter) ? letter : '-')).join('')} `
  }
  if (format & FMT.TOS) line += `${table ? '' : 'tos '}${hexByte(rule.tosand)} ${hexByte(rule.tosxor)} `
  if (format & FMT.VIA) {
    const name = rule.vianame || (numeric ? '*' : 'any')
    line += table ? `${pad(name, -7, 16)} ` : `via ${name.slice(0, 16)} `
    line += col(rule.via === 0 && !numeric ? 'any' : addrToDotted(rule.via), -15)
  }
  if (!table) line += '  '
  line += col(address(names, numeric, rule.src, rule.smsk), -20)
  const dst = address(names, numeric, rule.dst, rule.dmsk)
  line += table ? pad(dst, -20) : `-> ${dst}`
  if (!table) line += '  '
  if (kind === KIND.ALL) return `${line} n/a\n`
  line += portList(names, numeric, rule.pts.slice(0, rule.nsp), (f & FW.SRNG) !== 0, kind)
  // Only source ports are interpreted, as ICMP types.
  if (kind === KIND.ICMP) return `${line}\n`
  line += ` ->${portList(names, numeric, rule.pts.slice(rule.nsp, rule.nsp + rule.ndp), (f & FW.DRNG) !== 0, kind)}`
  if (f & FW.REDIR) {
    const port = rule.pts[rule.nsp + rule.ndp] ?? 0
    line += port === 0 ? (numeric ? ' => *' : ' => any') : ` => ${serviceOf(names, numeric, port, kind)}`
  }
  return `${line}\n`
}

export interface ListOptions {
  readonly extended: boolean
  readonly numeric: boolean
  readonly exact: boolean
}

const PROC_TITLES: Record<Category, string> = {
  forward: 'IP firewall forward rules',
  input: 'IP firewall input rules',
  output: 'IP firewall output rules',
  accounting: 'IP accounting rules',
}

/** list_entries(): the /proc title line, then the rules. */
export const formatListing = (category: Category, chain: Chain, o: ListOptions, names: ListNames): string => {
  const accounting = category === 'accounting'
  const title = accounting ? PROC_TITLES[category] : `${PROC_TITLES[category]}, default policy: ${policyName(chain.policy)}`
  let format = 0
  if (!accounting && !o.extended) format |= FMT.NOCOUNTS
  if (o.numeric) format |= FMT.NUMERIC
  if (o.extended) format |= accounting ? FMT.OPTIONS | FMT.VIA : FMT.OPTIONS | FMT.TOS | FMT.VIA
  if (!o.exact) format |= FMT.KILOMEGA
  const rules = chain.entries.map((e, i) => formatRule(e.rule, e.counts, i === 0 ? format | FMT.HEADER : format, accounting, names))
  return `${title}\n${rules.join('')}`
}

/** Every address a listing shows by name. */
export const listedAddresses = (chain: Chain): number[] =>
  chain.entries.flatMap((e) => [...(e.rule.smsk ? [e.rule.src] : []), ...(e.rule.dmsk ? [e.rule.dst] : [])])

/** list_masq(): only TCP and UDP lines were understood; undefined when another is present. */
export const formatMasq = (entries: readonly MasqEntry[], numeric: boolean, deltas: boolean, names: ListNames): string | undefined => {
  if (entries.some((m) => m.proto !== 'TCP' && m.proto !== 'UDP')) return undefined
  let text = ''
  entries.forEach((m, i) => {
    if (i === 0) {
      text += `prot ${pad('expire', -8)} ${deltas ? `${pad('initseq', 10)} delta prevd ` : ''}`
      text += `${pad('source', -20)} ${pad('destination', -20)} ports\n`
    }
    const kind = m.proto === 'TCP' ? KIND.TCP : KIND.UDP
    text += `${pad(m.proto.toLowerCase(), -5)}${masqExpiry(m.expires)} `
    if (deltas) text += `${pad(String(m.initseq), 10)} ${pad(String(m.delta), 5)} ${pad(String(m.pdelta), 5)} `
    const addr = (a: number): string => (numeric ? addrToDotted(a) : anyName(names, a))
    text += `${pad(addr(m.src), -20)} ${pad(addr(m.dst), -20)} `
    text += numeric
      ? `${m.sport} (${m.mport}) -> ${m.dport}\n`
      : `${serviceOf(names, false, m.sport, kind)} (${m.mport}) -> ${serviceOf(names, false, m.dport, kind)}\n`
  })
  return text
}
