// The Linux 2.0 firewall and accounting state, field for field as the kernel
// kept it (struct ip_fw in include/linux/ip_fw.h of 2.0.40).
import { type Counters, type Entry as StoredEntry, ZERO } from '../common/entry.ts'
import type { MasqTimeouts } from '../nft/nat.ts'

/** fw_flg bits */
export const FW = {
  KIND: 0x0003,
  ACCEPT: 0x0004,
  SRNG: 0x0008,
  DRNG: 0x0010,
  PRN: 0x0020,
  BIDIR: 0x0040,
  TCPSYN: 0x0080,
  ICMPRPL: 0x0100,
  MASQ: 0x0200,
  TCPACK: 0x0400,
  REDIR: 0x0800,
  ACCTIN: 0x1000,
  ACCTOUT: 0x2000,
} as const

/** The protocol kinds in the low two bits of fw_flg. */
export const KIND = { ALL: 0, TCP: 1, UDP: 2, ICMP: 3 } as const
export const KIND_NAMES = ['all', 'tcp', 'udp', 'icmp'] as const
export const KIND_PROTOCOLS = [0, 6, 17, 1] as const

export const MAX_PORTS = 10

export const CATEGORIES = ['forward', 'input', 'output', 'accounting'] as const
export type Category = (typeof CATEGORIES)[number]
export type Firewall = Exclude<Category, 'accounting'>

export interface Rule {
  readonly src: number
  readonly smsk: number
  readonly dst: number
  readonly dmsk: number
  /** Interface address (-V); 0 = any. */
  readonly via: number
  /** Interface name (-W); '' = any. */
  readonly vianame: string
  readonly flg: number
  readonly nsp: number
  readonly ndp: number
  /** Source ports, then destination ports, then the redirect port if REDIR. */
  readonly pts: readonly number[]
  readonly tosand: number
  readonly tosxor: number
}

export const kindOf = (rule: Pick<Rule, 'flg'>): number => rule.flg & FW.KIND

/** A rule as stored: the record plus the identity of its counter. */
export type Entry = StoredEntry<Rule>

export interface Chain {
  /** Firewall chains: policy bits (accept 4, deny 0, reject 0x100, accept|masq 0x204). */
  readonly policy: number
  readonly entries: readonly Entry[]
}

export type { MasqTimeouts }
export { type Counters, ZERO }

export const DEFAULT_TIMEOUTS: MasqTimeouts = { tcp: 15 * 60, tcpfin: 2 * 60, udp: 5 * 60 }

export interface State {
  readonly chains: Readonly<Record<Category, Chain>>
  readonly timeouts: MasqTimeouts
  /** The highest rule counter id ("r<N>") allocated so far. */
  readonly counterSeq: number
}

const emptyChain: Chain = { policy: FW.ACCEPT, entries: [] }

export const INITIAL_STATE: State = {
  chains: { forward: emptyChain, input: emptyChain, output: emptyChain, accounting: emptyChain },
  timeouts: DEFAULT_TIMEOUTS,
  counterSeq: 0,
}

/** policy_to_string() */
export const policyName = (policy: number): string => {
  if (policy === FW.ACCEPT) return 'accept'
  if (policy === (FW.ACCEPT | FW.MASQ)) return 'accept/masquerade'
  if (policy === FW.ICMPRPL) return 'reject'
  return 'deny'
}
