// Masqueraded connections, as the 2.0/2.2 /proc/net/ip_masquerade listed
// them, taken from the conntrack table (/proc/net/nf_conntrack or
// `conntrack -L` lines).
//
// The old masquerading table held more than the connections MASQ sent out
// from ports 61000-65095: port forwarding (portfw), fwmark forwarding (mfw)
// and autofw created an entry for every connection they forwarded, and
// autofw -d entries masqueraded without changing the source port. Their
// entries are recognised by what the forwarding tables loaded now can have
// done (conntrack does not show the ct labels legacyfw sets).
import { dottedToAddr } from './inet.ts'

export interface MasqEntry {
  /** TCP, UDP or ICMP, as the kernel wrote it. */
  readonly proto: 'TCP' | 'UDP' | 'ICMP'
  /** Time left, in hundredths of a second. */
  readonly expires: number
  /** The inside host and its port (ICMP: the query's id). */
  readonly src: number
  readonly sport: number
  /** The outside host and its port (ICMP: type << 8 | code of the query). */
  readonly dst: number
  readonly dport: number
  /** The port on the gateway (ICMP: the id the query was sent with). */
  readonly mport: number
  readonly initseq: number
  readonly delta: number
  readonly pdelta: number
  /**
   * The entry asked for its port (forwarded, or autofw -d) instead of taking
   * one from 61000-65095: 2.2 did not count it against the free ports.
   */
  readonly specificPort: boolean
}

export const MASQ_PORT_MIN = 61000
export const MASQ_PORT_MAX = 65095

/** A way connections to the gateway are forwarded to an inside host. */
export interface Inbound {
  readonly proto: 'tcp' | 'udp'
  /** The gateway address it is for; undefined: any of them. */
  readonly addr?: number
  readonly low: number
  readonly high: number
  /** The inside host; undefined: any (autofw learns it). */
  readonly host?: number
  /** The inside port; undefined: the connection's own port. */
  readonly port?: number
}

export interface PortRange {
  readonly low: number
  readonly high: number
}

/** What the forwarding tables loaded now do, and the gateway's own addresses. */
export interface MasqForwarding {
  readonly local: readonly number[]
  readonly inbound: readonly Inbound[]
  /** autofw -d: connections to these ports (any protocol) keep their source port. */
  readonly direct: readonly PortRange[]
}

export const NO_FORWARDING: MasqForwarding = { local: [], inbound: [], direct: [] }

type Tuple = Readonly<Record<string, string>>

/** The original and reply tuples of one conntrack line (each starts at src=). */
const tuplesOf = (fields: readonly string[]): Tuple[] => {
  const tuples: Record<string, string>[] = []
  for (const field of fields) {
    const [key, value] = field.split('=')
    if (value === undefined || key === undefined) continue
    if (key === 'src') tuples.push({})
    const current = tuples[tuples.length - 1]
    if (current && !(key in current)) current[key] = value
  }
  return tuples
}

const inMasqRange = (port: number): boolean => port >= MASQ_PORT_MIN && port <= MASQ_PORT_MAX
const within = (r: PortRange, port: number): boolean => port >= r.low && port <= r.high

/** One connection: protocol, timeout and the two tuples as numbers. */
interface Conn {
  readonly proto: 'tcp' | 'udp' | 'icmp'
  readonly expires: number
  readonly src: number
  readonly dst: number
  readonly sport: number
  readonly dport: number
  readonly rsrc: number
  readonly rdst: number
  readonly rsport: number
  readonly rdport: number
}

// ICMP queries are tracked by id; the kernel's masq entry used the query's
// id as the source port and type << 8 | code as the destination port
// (icmp_hv_req in ip_masq.c), and rewrote the id to its masq port.
const connOf = (line: string): Conn | undefined => {
  const fields = line.trim().split(/\s+/)
  const at = fields[0] === 'ipv4' ? 2 : 0
  const proto = fields[at]
  const timeout = Number(fields[at + 2])
  if ((proto !== 'tcp' && proto !== 'udp' && proto !== 'icmp') || !Number.isInteger(timeout)) return undefined
  const [o, r] = tuplesOf(fields.slice(at + 3))
  if (!o || !r) return undefined
  const icmp = proto === 'icmp'
  const addrs = [o['src'], o['dst'], r['src'], r['dst']].map((a) => dottedToAddr(a ?? ''))
  const ports = (
    icmp ? [o['id'], (Number(o['type']) << 8) | Number(o['code']), r['id'], r['id']] : [o['sport'], o['dport'], r['sport'], r['dport']]
  ).map(Number)
  if (addrs.some((a) => a === undefined) || ports.some((p) => !Number.isInteger(p))) return undefined
  const [src, dst, rsrc, rdst] = addrs as [number, number, number, number]
  const [sport, dport, rsport, rdport] = ports as [number, number, number, number]
  return { proto, expires: timeout * 100, src, dst, sport, dport, rsrc, rdst, rsport, rdport }
}

const PROTO = { tcp: 'TCP', udp: 'UDP', icmp: 'ICMP' } as const
const entry = (c: Conn, e: Pick<MasqEntry, 'src' | 'sport' | 'dst' | 'dport' | 'mport' | 'specificPort'>): MasqEntry => ({
  proto: PROTO[c.proto],
  expires: c.expires,
  ...e,
  initseq: 0,
  delta: 0,
  pdelta: 0,
})

/** Sent out masqueraded: from a masq port, or keeping its port under autofw -d. */
const outgoing = (c: Conn, f: MasqForwarding): MasqEntry | undefined => {
  if (c.rdst === c.src) return undefined
  const direct = c.proto !== 'icmp' && c.rdport === c.sport && f.direct.some((r) => within(r, c.dport))
  if (!direct && !inMasqRange(c.rdport)) return undefined
  return entry(c, { src: c.src, sport: c.sport, dst: c.dst, dport: c.dport, mport: c.rdport, specificPort: direct })
}

/** To a gateway address, forwarded to an inside host the way a loaded entry does. */
const forwarded = (c: Conn, f: MasqForwarding): MasqEntry | undefined => {
  if (c.proto === 'icmp' || !f.local.includes(c.dst) || f.local.includes(c.rsrc)) return undefined
  const by = (i: Inbound): boolean =>
    i.proto === c.proto &&
    (i.addr === undefined || i.addr === c.dst) &&
    within(i, c.dport) &&
    (i.host === undefined || i.host === c.rsrc) &&
    (i.port ?? c.dport) === c.rsport
  if (!f.inbound.some(by)) return undefined
  return entry(c, { src: c.rsrc, sport: c.rsport, dst: c.src, dport: c.sport, mport: c.dport, specificPort: true })
}

/** Which kernel helper a conntrack line's connection has (helper=NAME), if any. */
const helperOf = (line: string): string | undefined => /\bhelper=(\S+)/.exec(line)?.[1]

/**
 * A connection a helper made for a connection it is bound to (the FTP data
 * connection, RTP of a SIP call): NATed one way only, between the inside
 * and outside hosts of a masquerade entry with a helper. 2.2's helpers made
 * these entries themselves; they asked for their port.
 */
const helperMade = (c: Conn, masters: ReadonlySet<string>): MasqEntry | undefined => {
  if (c.proto === 'icmp') return undefined
  if (c.rsrc !== c.dst && c.rdst === c.src && masters.has(`${c.rsrc} ${c.src}`))
    return entry(c, { src: c.rsrc, sport: c.rsport, dst: c.src, dport: c.sport, mport: c.dport, specificPort: true })
  if (c.rdst !== c.src && c.rsrc === c.dst && masters.has(`${c.src} ${c.dst}`))
    return entry(c, { src: c.src, sport: c.sport, dst: c.dst, dport: c.dport, mport: c.rdport, specificPort: true })
  return undefined
}

/** A masquerade entry, how it came to be, and the kernel helper bound to its connection. */
export interface MasqConnection {
  readonly entry: MasqEntry
  readonly kind: 'outgoing' | 'forwarded' | 'helper-made'
  readonly helper?: string
}

/**
 * The masquerading table among conntrack lines, given the forwarding
 * tables. Lines look like
 * "ipv4 2 tcp 6 431999 ESTABLISHED src=... dst=... sport= dport= src= ...".
 * Any other NAT (REDIRECT, a DNAT of someone else's) is no masq entry.
 */
export const masqConnections = (text: string, forwarding: MasqForwarding): MasqConnection[] => {
  const lines = text.split('\n').flatMap((line) => {
    const c = connOf(line)
    return c ? [{ c, helper: helperOf(line) }] : []
  })
  const found = lines.map(({ c, helper }): MasqConnection | undefined => {
    const out = outgoing(c, forwarding)
    const fwd = out ? undefined : forwarded(c, forwarding)
    const e = out ?? fwd
    return e ? { entry: e, kind: out ? ('outgoing' as const) : ('forwarded' as const), ...(helper ? { helper } : {}) } : undefined
  })
  const masters = new Set(found.flatMap((m) => (m?.helper ? [`${m.entry.src} ${m.entry.dst}`] : [])))
  return lines.flatMap(({ c }, i): MasqConnection[] => {
    const known = found[i]
    if (known) return [known]
    const made = masters.size ? helperMade(c, masters) : undefined
    return made ? [{ entry: made, kind: 'helper-made' as const }] : []
  })
}

export const masqEntriesFromConntrack = (text: string, forwarding: MasqForwarding): MasqEntry[] =>
  masqConnections(text, forwarding).map((m) => m.entry)
