// The Linux 2.2 firewall-chains state, field for field as the kernel kept it
// (struct ip_fw in include/linux/ip_fw.h), so that listings, deletion by
// specification and the -C simulator behave exactly as they did.
import { type Counters, type Entry as StoredEntry, ZERO } from '../common/entry.ts'
import type { MasqTimeouts } from '../nft/nat.ts'

/** fw_flg bits */
export const F = {
  PRN: 0x01,
  TCPSYN: 0x02,
  FRAG: 0x04,
  MARKABS: 0x08,
  WILDIF: 0x10,
  NETLINK: 0x20,
} as const

/** fw_invflg bits */
export const INV = {
  SRCIP: 0x01,
  DSTIP: 0x02,
  PROTO: 0x04,
  SRCPT: 0x08,
  DSTPT: 0x10,
  VIA: 0x20,
  SYN: 0x40,
  FRAG: 0x80,
} as const

export const PROTO = { ALL: 0, ICMP: 1, TCP: 6, UDP: 17 } as const

export const BUILTIN_CHAINS = ['input', 'forward', 'output'] as const
export type BuiltinChain = (typeof BUILTIN_CHAINS)[number]
export const isBuiltin = (name: string): name is BuiltinChain => (BUILTIN_CHAINS as readonly string[]).includes(name)

export const POLICIES = ['ACCEPT', 'DENY', 'REJECT', 'MASQ'] as const
export type Policy = (typeof POLICIES)[number]

/** Targets the kernel handles itself; any other label names a user chain. */
export const SPECIAL_TARGETS = ['ACCEPT', 'DENY', 'REJECT', 'MASQ', 'REDIRECT', 'RETURN'] as const
export const isSpecialTarget = (label: string): boolean => (SPECIAL_TARGETS as readonly string[]).includes(label)

export type PortRange = readonly [number, number]
export const ALL_PORTS: PortRange = [0, 0xffff]

export interface Rule {
  readonly src: number
  readonly smsk: number
  readonly dst: number
  readonly dmsk: number
  readonly mark: number
  /** 0 = any; up to 65535 is accepted, above 255 never matches. */
  readonly proto: number
  readonly flg: number
  readonly invflg: number
  /** Source ports, or the ICMP type range. */
  readonly spts: PortRange
  /** Destination ports, or the ICMP code range. */
  readonly dpts: PortRange
  readonly redirpt: number
  readonly outputsize: number
  readonly vianame: string
  readonly tosand: number
  readonly tosxor: number
  /** Target label, '' for none. */
  readonly label: string
}

export const EMPTY_RULE: Rule = {
  src: 0,
  smsk: 0,
  dst: 0,
  dmsk: 0,
  mark: 0,
  proto: 0,
  flg: 0,
  invflg: 0,
  spts: ALL_PORTS,
  dpts: ALL_PORTS,
  redirpt: 0,
  outputsize: 0,
  vianame: '',
  tosand: 0xff,
  tosxor: 0x00,
  label: '',
}

/** A rule as stored: the record plus the identity of its counter. */
export type Entry = StoredEntry<Rule>

export interface Chain {
  readonly name: string
  /** Built-in chains only. */
  readonly policy?: Policy
  readonly policyCounts: Counters
  readonly entries: readonly Entry[]
}

export type { MasqTimeouts }
export { type Counters, ZERO }

export const DEFAULT_TIMEOUTS: MasqTimeouts = { tcp: 15 * 60, tcpfin: 2 * 60, udp: 5 * 60 }

export interface State {
  readonly chains: readonly Chain[]
  readonly timeouts: MasqTimeouts
  /** The highest rule counter id ("r<N>") allocated so far. */
  readonly counterSeq: number
}

export const INITIAL_STATE: State = {
  chains: BUILTIN_CHAINS.map((name) => ({ name, policy: 'ACCEPT', policyCounts: ZERO, entries: [] })),
  timeouts: DEFAULT_TIMEOUTS,
  counterSeq: 0,
}

export const findChain = (state: State, name: string): Chain | undefined => state.chains.find((c) => c.name === name)

/**
 * Number of rules jumping to `name` (the kernel's refcount for user chains).
 * A special target wins over a chain of the same name, so -j ACCEPT never
 * refers to a user chain called ACCEPT.
 */
export const references = (state: State, name: string): number =>
  isSpecialTarget(name) ? 0 : state.chains.reduce((n, c) => n + c.entries.filter((e) => e.rule.label === name).length, 0)

/** The kernel adds the wildcard flag to every rule without an interface name. */
export const normaliseRule = (rule: Rule): Rule => (rule.vianame === '' ? { ...rule, flg: rule.flg | F.WILDIF } : rule)
