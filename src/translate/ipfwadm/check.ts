// ip_fw_chk() of Linux 2.0: which rule a packet matches and what the
// verdict is, for ipfwadm -c and the differential test.
import { u32 } from '../common/inet.ts'
import type { PacketHeader } from '../common/packet.ts'
import { type Category, FW, KIND, KIND_PROTOCOLS, type Rule, type State, kindOf } from './model.ts'

export interface Packet extends PacketHeader {
  readonly syn: boolean
  readonly ack: boolean
  readonly rst: boolean
  /** The interface the chain compares -W/-V with, and its primary address. */
  readonly iface: { readonly name: string; readonly primary: number | undefined } | undefined
}

export type Verdict = 'accept' | 'masquerade' | 'redirect' | 'deny' | 'reject'

/** port_match(): an empty list matches all; a range flag makes the first two slots a range. */
const portMatch = (ports: readonly number[], range: boolean, port: number): boolean => {
  if (ports.length === 0) return true
  if (range && (ports[0] ?? 0) <= port && port <= (ports[1] ?? 0)) return true
  return ports.slice(range ? 2 : 0).includes(port)
}

export const sourcePorts = (rule: Rule): number[] => rule.pts.slice(0, rule.nsp)
export const destinationPorts = (rule: Rule): number[] => rule.pts.slice(rule.nsp, rule.nsp + rule.ndp)

/** Does `rule` match `p`? `direction` is set for accounting ('in' or 'out'). */
export const ruleMatches = (rule: Rule, p: Packet, direction?: 'in' | 'out'): boolean => {
  const forward = u32(p.saddr & rule.smsk) === rule.src && u32(p.daddr & rule.dmsk) === rule.dst
  const reverse = (rule.flg & FW.BIDIR) !== 0 && u32(p.daddr & rule.smsk) === rule.src && u32(p.saddr & rule.dmsk) === rule.dst
  if (!forward && !reverse) return false
  if (rule.via !== 0 && p.iface && p.iface.primary !== rule.via) return false
  if (rule.vianame !== '' && p.iface?.name !== rule.vianame) return false
  if (direction === 'out' && rule.flg & FW.ACCTIN) return false
  if (direction === 'in' && rule.flg & FW.ACCTOUT) return false
  const tcp = p.proto === 6
  const notSyn = tcp && (!p.syn || p.ack || p.rst)
  const notAck = tcp && !(p.ack || p.rst)
  if (rule.flg & FW.TCPSYN && notSyn) return false
  if (rule.flg & FW.TCPACK && notAck) return false
  const kind = kindOf(rule)
  if (kind === KIND.ALL) return true
  if (p.proto !== KIND_PROTOCOLS[kind]) return false
  const src = sourcePorts(rule)
  const dst = destinationPorts(rule)
  const srng = (rule.flg & FW.SRNG) !== 0
  const drng = (rule.flg & FW.DRNG) !== 0
  if (kind === KIND.ICMP) return portMatch(src, srng, p.sport)
  return (
    (forward && portMatch(src, srng, p.sport) && portMatch(dst, drng, p.dport)) ||
    (reverse && portMatch(src, srng, p.dport) && portMatch(dst, drng, p.sport))
  )
}

/** What a rule's (or policy's) flags do with an accepted packet. */
export const verdictOf = (flags: number): Verdict => {
  if (flags & FW.ACCEPT) return flags & FW.REDIR ? 'redirect' : flags & FW.MASQ ? 'masquerade' : 'accept'
  return flags & FW.ICMPRPL ? 'reject' : 'deny'
}

/** The verdict of a firewall chain: the first matching rule, else the policy. */
export const checkPacket = (state: State, category: Exclude<Category, 'accounting'>, p: Packet): Verdict => {
  const chain = state.chains[category]
  const hit = chain.entries.find((e) => ruleMatches(e.rule, p))
  return verdictOf(hit ? hit.rule.flg : chain.policy)
}
