// A rule written back as ipchains option words. The record in nft comments
// (codec.ts) and ipchains-save (save.ts) write the same options under the
// same conditions; they differ only in order and in how values are spelled.
import { hexByte } from '../common/printf.ts'
import { type PortRange, type Rule, F, INV } from './model.ts'
import { FLAG_OPTIONS, type RuleFlagLetter, inverseOf } from './parse.ts'

export interface Spelling {
  /** The options in the order they are written. */
  readonly order: readonly RuleOption[]
  /** Leave out -s/-d when they match anything. */
  readonly omitsAnywhere: boolean
  readonly address: (addr: number, mask: number) => string
  readonly ports: (range: PortRange) => string
  readonly proto: (proto: number) => string
  /** An interface or target name. */
  readonly name: (name: string) => string
}

export type RuleOption = 's' | 'd' | 'p' | 'i' | 'j' | 'm' | 't' | RuleFlagLetter

const isAllPorts = (range: PortRange): boolean => range[0] === 0 && range[1] === 0xffff

const not = (rule: Rule, bit: number): string[] => (rule.invflg & bit ? ['!'] : [])

const endpointWords = (
  option: string,
  sp: Spelling,
  addr: number,
  mask: number,
  addrInv: boolean,
  ports: PortRange,
  portInv: boolean,
): string[] => {
  const showPorts = !isAllPorts(ports) || portInv
  if (sp.omitsAnywhere && mask === 0 && !addrInv && !showPorts) return []
  return [option, ...(addrInv ? ['!'] : []), sp.address(addr, mask), ...(showPorts ? [...(portInv ? ['!'] : []), sp.ports(ports)] : [])]
}

const flagWords = (rule: Rule, letter: RuleFlagLetter): string[] => {
  const { option, flag } = FLAG_OPTIONS[letter]
  return rule.flg & flag ? [...not(rule, inverseOf(option)), `-${letter}`] : []
}

const WRITERS: Record<RuleOption, (rule: Rule, sp: Spelling) => string[]> = {
  s: (r, sp) => endpointWords('-s', sp, r.src, r.smsk, (r.invflg & INV.SRCIP) !== 0, r.spts, (r.invflg & INV.SRCPT) !== 0),
  d: (r, sp) => endpointWords('-d', sp, r.dst, r.dmsk, (r.invflg & INV.DSTIP) !== 0, r.dpts, (r.invflg & INV.DSTPT) !== 0),
  p: (r, sp) => (r.proto !== 0 || r.invflg & INV.PROTO ? ['-p', ...not(r, INV.PROTO), sp.proto(r.proto)] : []),
  // An empty name always carries the wildcard flag, so "! any interface" is "! +".
  i: (r, sp) => (r.vianame !== '' || r.invflg & INV.VIA ? ['-i', ...not(r, INV.VIA), sp.name(r.vianame) + (r.flg & F.WILDIF ? '+' : '')] : []),
  j: (r, sp) => (r.label !== '' ? ['-j', sp.name(r.label), ...(r.redirpt ? [`${r.redirpt}`] : [])] : []),
  m: (r) => (r.flg & F.MARKABS ? ['-m', `0x${r.mark.toString(16)}`] : r.mark !== 0 ? ['-m', `+0x${r.mark.toString(16)}`] : []),
  t: (r) => (r.tosand !== 0xff || r.tosxor !== 0 ? ['-t', hexByte(r.tosand), hexByte(r.tosxor)] : []),
  o: (r) => [...flagWords(r, 'o'), ...(r.flg & F.NETLINK && r.outputsize !== 0xffff ? [`${r.outputsize}`] : [])],
  y: (r) => flagWords(r, 'y'),
  f: (r) => flagWords(r, 'f'),
  l: (r) => flagWords(r, 'l'),
}

export const ruleWords = (rule: Rule, sp: Spelling): string[] => sp.order.flatMap((option) => WRITERS[option](rule, sp))
