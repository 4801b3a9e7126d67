// Which connections a helper acts on, as in 2.2 (ip_masq_app.c): the
// masqueraded ones whose destination port is one of its ports (outbound),
// the port-forwarded ones whose port on the firewall is one of its
// in_ports, and those carrying its firewall mark (mark=, in_mark=).
// Masqueraded and forwarded connections are known by the ct labels the
// legacy tables set (nft/labels.ts); no other connection is touched.
import { FORWARDED_LABEL, MASQ_LABELS } from '../nft/labels.ts'
import type { LoadedApp } from './model.ts'

export type Proto = 'tcp' | 'udp'

/** Ports as one nft value: a port, or an anonymous set. */
export const portSet = (ports: readonly number[]): string => (ports.length === 1 ? String(ports[0]) : `{ ${ports.join(', ')} }`)

/**
 * The match lists of the connections an app is bound to, seen on a packet
 * of `direction` (the original direction is the one that created the
 * connection), one list per nft rule.
 */
export const boundTo = (app: LoadedApp, proto: Proto, direction: 'original' | 'reply' = 'original'): string[][] => {
  const dir = `ct direction ${direction}`
  const port = direction === 'original' ? 'dport' : 'sport'
  return [
    ...(app.ports.length ? MASQ_LABELS.map((l) => [dir, `ct label ${l}`, `${proto} ${port} ${portSet(app.ports)}`]) : []),
    ...(app.inPorts.length ? [[dir, `ct label ${FORWARDED_LABEL}`, `meta l4proto ${proto}`, `ct original proto-dst ${portSet(app.inPorts)}`]] : []),
    ...(app.mark ? MASQ_LABELS.map((l) => [dir, `ct label ${l}`, `meta l4proto ${proto}`, `meta mark ${app.mark}`]) : []),
    ...(app.inMark ? [[dir, `ct label ${FORWARDED_LABEL}`, `meta l4proto ${proto}`, `meta mark ${app.inMark}`]] : []),
  ]
}
