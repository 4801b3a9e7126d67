// A packet as the -C/-c simulators of both tools see it.

/** The IPv4 and transport header fields every rule can match. */
export interface PacketHeader {
  readonly saddr: number
  readonly daddr: number
  readonly proto: number
  /** TCP/UDP source port, or the ICMP type. */
  readonly sport: number
  /** TCP/UDP destination port, or the ICMP code. */
  readonly dport: number
}
