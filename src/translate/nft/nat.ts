// Masquerading and redirection for the legacy tables. A filter chain's MASQ
// or REDIRECT verdict marks the connection with a ct label (through a
// verdict chain); nat chains then act on the label. Each table has its own
// labels, so ipfwadm and ipchains tables can be loaded together.
import type { NftChain, NftCtTimeout, NftRule } from './ir.ts'
import type { KernelTable } from './kernel-table.ts'
import { FORWARDED_LABEL } from './labels.ts'
import { quote } from './text.ts'

export const MASQ_CHAIN = 'masq'

/**
 * The first rules of the forward chain: de-masqueraded replies, and
 * connections autofw/portfw/mfw forward to an internal host (de-masqueraded
 * too), skip it, as in 2.0 and 2.2.
 */
export const forwardPrologue = (masqLabel: number, kernel: '2.0' | '2.2'): NftRule[] => [
  { matches: ['ct direction reply', `ct label ${masqLabel}`], stmts: ['accept'], comment: `de-masqueraded replies skip forward (${kernel})` },
  {
    matches: ['ct direction original', `ct label ${FORWARDED_LABEL}`],
    stmts: ['accept'],
    comment: `forwarded by autofw/portfw/mfw: skips forward (${kernel})`,
  },
]
export const redirectChainName = (port: number): string => `redirect_${port}`

// A TCP packet that conntrack will not track (SYN+ACK, RST, FIN without a
// connection) cannot be NATed: the old kernels would have, so it is dropped
// rather than let through unchanged. Other untracked packets (ICMP errors)
// went through MASQ unchanged, and still do (setting a label without a
// connection does nothing, and the accept follows). With `untracked: 'any'`
// every untracked packet is dropped: 2.0's redirect delivered any packet
// locally, where nothing used an ICMP error or reply of no connection.
export const natVerdictChain = (name: string, label: number, what: string, untracked: 'tcp' | 'any' = 'tcp'): NftChain => ({
  name,
  rules: [
    untracked === 'tcp'
      ? { matches: ['meta l4proto tcp', 'ct state invalid'], stmts: ['drop'], comment: `${what}: a TCP packet nftables cannot track` }
      : { matches: ['ct state invalid'], stmts: ['drop'], comment: `${what}: a packet nftables cannot track` },
    { matches: [], stmts: [`ct label set ${label}`, 'accept'] },
  ],
})

/** Masquerade marked connections from ports 61000-65095; `kernel` names the semantics ("2.2"). */
export const masqChain = (label: number, timeouts: readonly NftCtTimeout[], kernel: string): NftChain => ({
  name: 'nat_post',
  base: { type: 'nat', hook: 'postrouting', priority: 'srcnat', policy: 'accept' },
  rules: [
    ...timeouts.map((t) => ({
      matches: [`ct label ${label}`, `meta l4proto ${t.protocol}`],
      stmts: [`ct timeout set ${quote(t.name)}`],
    })),
    // ICMP queries get a masq "port" too: their identifier (ip_fw_masq_icmp).
    {
      matches: [`ct label ${label}`, 'meta l4proto { tcp, udp, icmp }'],
      stmts: ['masquerade to :61000-65095'],
      comment: `MASQ: ${kernel} masquerade port range`,
    },
    // ip_fw_masquerade() failed for any other protocol and the packet was dropped.
    { matches: [`ct label ${label}`], stmts: ['drop'], comment: `MASQ: ${kernel} masqueraded only TCP, UDP and ICMP` },
  ],
})

/**
 * Redirect connections marked with label N to the port given with it. With
 * `otherProtocols` (2.0, where a redirected packet of any protocol was
 * delivered locally), the other protocols go to the receiving interface's
 * address.
 */
export const redirectChain = (labels: ReadonlyMap<number, number>, otherProtocols = false): NftChain => ({
  name: 'nat_pre',
  base: { type: 'nat', hook: 'prerouting', priority: 'dstnat', policy: 'accept' },
  rules: [
    ...[...labels].map(([port, label]) => ({
      matches: [`ct label ${label}`, 'meta l4proto { tcp, udp }'],
      stmts: [port === 0 ? 'redirect' : `redirect to :${port}`],
      comment: `REDIRECT ${port}`,
    })),
    ...(otherProtocols
      ? [...labels].map(([port, label]) => ({
          matches: [`ct label ${label}`, 'meta l4proto != { tcp, udp }'],
          stmts: ['redirect'],
          comment: `REDIRECT ${port}: other protocols`,
        }))
      : []),
  ],
})

/** A state this rendering cannot express; the command is refused whole. */
export class Unsupported extends Error {}

/** ct label per distinct redirect port, from the table's own label range. */
export const redirectLabels = (ports: Iterable<number>, first: number, end: number): Map<number, number> => {
  const sorted = [...new Set(ports)].sort((a, b) => a - b)
  if (sorted.length > end - first) throw new Unsupported(`at most ${end - first} different REDIRECT ports can be in use`)
  return new Map(sorted.map((port, i) => [port, first + i]))
}

/** Masquerading timeouts in seconds: TCP, TCP after FIN, UDP. */
export interface MasqTimeouts {
  readonly tcp: number
  readonly tcpfin: number
  readonly udp: number
}

/**
 * ct timeout policies for masqueraded connections. 2.2 kept a timeout per
 * TCP state and -M -S set two of them; 2.0 used the TCP timeout until FIN
 * had been seen both ways, then the FIN timeout (an RST ended the entry).
 */
export const masqTimeoutObjects = ({ tcp, tcpfin, udp }: MasqTimeouts, kernel: '2.0' | '2.2'): NftCtTimeout[] => [
  {
    name: `masq_tcp_${tcp}_${tcpfin}`,
    protocol: 'tcp',
    policy:
      kernel === '2.2'
        ? [
            ['established', tcp],
            ['syn_sent', 120],
            ['syn_recv', 60],
            ['fin_wait', tcpfin],
            ['time_wait', 120],
            ['close', 10],
            ['close_wait', 60],
            ['last_ack', 30],
          ]
        : [
            ['established', tcp],
            ['syn_sent', tcp],
            ['syn_recv', tcp],
            ['fin_wait', tcp],
            ['close_wait', tcp],
            ['last_ack', tcpfin],
            ['time_wait', tcpfin],
            ['close', 1],
          ],
  },
  {
    name: `masq_udp_${udp}`,
    protocol: 'udp',
    policy: [
      ['unreplied', udp],
      ['replied', udp],
    ],
  },
]

/** The timeouts a table's ct timeout objects were rendered from. */
export const timeoutsOf = (table: KernelTable, defaults: MasqTimeouts): MasqTimeouts => {
  const tcp = table.ctTimeouts.map((n) => /^masq_tcp_(\d+)_(\d+)$/.exec(n)).find((m) => m)
  const udp = table.ctTimeouts.map((n) => /^masq_udp_(\d+)$/.exec(n)).find((m) => m)
  return {
    tcp: tcp ? Number(tcp[1]) : defaults.tcp,
    tcpfin: tcp ? Number(tcp[2]) : defaults.tcpfin,
    udp: udp ? Number(udp[1]) : defaults.udp,
  }
}
