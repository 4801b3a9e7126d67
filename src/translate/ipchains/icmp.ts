// ipchains' ICMP name table; its order matters for prefix ambiguity and listing.

export interface IcmpName {
  readonly name: string
  readonly type: number
  readonly codeMin: number
  readonly codeMax: number
  /** -C may use codeMin as the code of the test packet. */
  readonly testable: boolean
}

const n = (name: string, type: number, codeMin: number, codeMax: number, testable = true): IcmpName => ({
  name,
  type,
  codeMin,
  codeMax,
  testable,
})

export const ICMP_NAMES: readonly IcmpName[] = [
  n('echo-reply', 0, 0, 0xffff),
  n('pong', 0, 0, 0xffff),
  n('destination-unreachable', 3, 0, 0xffff, false),
  n('network-unreachable', 3, 0, 0),
  n('host-unreachable', 3, 1, 1),
  n('protocol-unreachable', 3, 2, 2),
  n('port-unreachable', 3, 3, 3),
  n('fragmentation-needed', 3, 4, 4),
  n('source-route-failed', 3, 5, 5),
  n('network-unknown', 3, 6, 6),
  n('host-unknown', 3, 7, 7),
  n('network-prohibited', 3, 9, 9),
  n('host-prohibited', 3, 10, 10),
  n('TOS-network-unreachable', 3, 11, 11),
  n('TOS-host-unreachable', 3, 12, 12),
  n('communication-prohibited', 3, 13, 13),
  n('host-precedence-violation', 3, 14, 14),
  n('precedence-cutoff', 3, 15, 15),
  n('source-quench', 4, 0, 0xffff),
  n('redirect', 5, 0, 0xffff, false),
  n('network-redirect', 5, 0, 0),
  n('host-redirect', 5, 1, 1),
  n('TOS-network-redirect', 5, 2, 2),
  n('TOS-host-redirect', 5, 3, 3),
  n('echo-request', 8, 0, 0xffff),
  n('ping', 8, 0, 0xffff),
  n('router-advertisement', 9, 0, 0xffff),
  n('router-solicitation', 10, 0, 0xffff),
  n('time-exceeded', 11, 0, 0xffff, false),
  n('ttl-exceeded', 11, 0, 0xffff, false),
  n('ttl-zero-during-transit', 11, 0, 0),
  n('ttl-zero-during-reassembly', 11, 1, 1),
  n('parameter-problem', 12, 0, 0xffff, false),
  n('ip-header-bad', 12, 0, 0),
  n('required-option-missing', 12, 1, 1),
  n('timestamp-request', 13, 0, 0xffff),
  n('timestamp-reply', 14, 0, 0xffff),
  n('address-mask-request', 17, 0, 0xffff),
  n('address-mask-reply', 18, 0, 0xffff),
]

/** The name a listing shows for a (type range, code range), if any. */
export const icmpNameFor = (spts: readonly [number, number], dpts: readonly [number, number]): string | undefined =>
  ICMP_NAMES.find((i) => i.type === spts[0] && i.type === spts[1] && i.codeMin === dpts[0] && i.codeMax === dpts[1])?.name
