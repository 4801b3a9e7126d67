// What the ipautofw and ipmasqadm tables forward, in the terms the
// masquerade listings recognise their connections by (common/masq.ts).
import type { Inbound, MasqForwarding, PortRange } from '../common/masq.ts'
import { IPPROTO_TCP, TYPE } from '../ipautofw/model.ts'
import type { MasqState } from './state.ts'

const protoOf = (p: number): Inbound['proto'] => (p === IPPROTO_TCP ? 'tcp' : 'udp')
const port = (p: number): { port?: number } => (p === 0 ? {} : { port: p })

const inbound = (s: MasqState): Inbound[] => [
  // RANGE: same port, to the host learned from the control port or given with -h.
  ...s.autofw.filter((a) => a.entry.type === TYPE.RANGE).map((a) => ({ proto: protoOf(a.entry.protocol), low: a.entry.low, high: a.entry.high })),
  ...s.autofw
    .filter((a) => a.entry.type === TYPE.PORT && a.entry.where !== 0)
    .map((a) => ({ proto: protoOf(a.entry.protocol), low: a.entry.visible, high: a.entry.visible, host: a.entry.where, port: a.entry.hidden })),
  ...[...s.portfw.udp, ...s.portfw.tcp]
    .filter((e) => e.raddr !== 0)
    .map((e) => ({ proto: protoOf(e.protocol), addr: e.laddr, low: e.lport, high: e.lport, host: e.raddr, ...port(e.rport) })),
  // mfw: any port the marking rules chose, to a host of a mark.
  ...s.mfw.flatMap((m) =>
    m.hosts.flatMap((h) => (['tcp', 'udp'] as const).map((proto) => ({ proto, low: 1, high: 65535, host: h.raddr, ...port(h.rport) }))),
  ),
]

const direct = (s: MasqState): PortRange[] =>
  s.autofw.filter((a) => a.entry.type === TYPE.DIRECT).map((a) => ({ low: a.entry.low, high: a.entry.high }))

/** The forwarding of the tables' states, on a gateway with these addresses. */
export const forwardingOf = (states: readonly MasqState[], local: readonly number[]): MasqForwarding => ({
  local,
  inbound: states.flatMap(inbound),
  direct: states.flatMap(direct),
})
