// ip_fw_check() of Linux 2.2 in testing mode: the verdict a chain gives a
// synthetic packet, with jumps, RETURN, policies and loop detection.
import { u32 } from '../common/inet.ts'
import type { PacketHeader } from '../common/packet.ts'
import { type Rule, type State, F, INV, PROTO, findChain, isBuiltin } from './model.ts'

export interface TestPacket extends PacketHeader {
  /** SYN set, ACK and RST clear. */
  readonly syn: boolean
  /** Fragment offset (in 8-byte units); -C -f tests offset 2. */
  readonly fragOffset: number
  /** The interface the chain compares -i with. */
  readonly iface: string
}

export type CheckVerdict = 'accepted' | 'denied' | 'rejected' | 'masqueraded' | 'redirected' | 'caught in loop' | 'passed through chain'

const inRange = (range: readonly [number, number], port: number): boolean => range[0] <= port && port <= range[1]
const isFullRange = (range: readonly [number, number]): boolean => range[0] === 0 && range[1] === 0xffff

/** Does `rule` match the packet? (ip_rule_match) */
export const ruleMatches = (rule: Rule, p: TestPacket): boolean => {
  const inv = (bit: number, value: boolean): boolean => value !== ((rule.invflg & bit) !== 0)
  const fragment = p.fragOffset !== 0
  // TCP/UDP/ICMP headers are only read from first fragments.
  const ports = fragment || ![PROTO.TCP, PROTO.UDP, PROTO.ICMP].includes(p.proto as 1 | 6 | 17)
  const sport = ports ? 0xffff : p.sport
  const dport = ports ? 0xffff : p.dport
  if (!inv(INV.SRCIP, u32(p.saddr & rule.smsk) === rule.src)) return false
  if (!inv(INV.DSTIP, u32(p.daddr & rule.dmsk) === rule.dst)) return false
  const ifaceMatch = rule.flg & F.WILDIF ? p.iface.startsWith(rule.vianame) : p.iface === rule.vianame
  if (!inv(INV.VIA, ifaceMatch)) return false
  if (rule.flg & F.FRAG && !inv(INV.FRAG, fragment)) return false
  if (rule.flg & F.TCPSYN && (fragment || !inv(INV.SYN, p.syn && p.proto === PROTO.TCP))) return false
  if (rule.proto === 0) return true
  if (!inv(INV.PROTO, p.proto === rule.proto)) return false
  if (fragment) return isFullRange(rule.spts) && isFullRange(rule.dpts)
  return inv(INV.SRCPT, inRange(rule.spts, sport)) && inv(INV.DSTPT, inRange(rule.dpts, dport))
}

const VERDICT_OF: Record<string, CheckVerdict> = {
  ACCEPT: 'accepted',
  DENY: 'denied',
  REJECT: 'rejected',
  MASQ: 'masqueraded',
  REDIRECT: 'redirected',
}

/**
 * Runs the packet through `chainName` (which must exist). A suspect TCP
 * fragment (offset 1) is denied before any rule is looked at.
 */
export const checkPacket = (state: State, chainName: string, p: TestPacket): CheckVerdict => {
  if (p.fragOffset === 1 && p.proto === PROTO.TCP) return 'denied'
  const path: string[] = []
  const walk = (name: string): CheckVerdict | 'fell off' => {
    path.push(name)
    const chain = findChain(state, name)
    for (const { rule } of chain?.entries ?? []) {
      if (!ruleMatches(rule, p)) continue
      const verdict = VERDICT_OF[rule.label]
      if (verdict) return verdict
      if (rule.label === 'RETURN') break
      if (rule.label === '') continue
      if (path.includes(rule.label)) return 'caught in loop'
      const result = walk(rule.label)
      if (result !== 'fell off') return result
    }
    path.pop()
    return 'fell off'
  }
  const result = walk(chainName)
  if (result !== 'fell off') return result
  if (!isBuiltin(chainName)) return 'passed through chain'
  return VERDICT_OF[findChain(state, chainName)?.policy ?? 'ACCEPT'] ?? 'accepted'
}
