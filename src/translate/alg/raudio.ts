// ip_masq_raudio, PNA part (spec alg-modules.md §3.1): the client's hello
// on TCP 7070 ("PNA", version, then records id/length/value up to id 0)
// names its UDP audio port in record 1 and its Robust-UDP port in record 7,
// in any order. nft alone cannot walk records, so the resident runtime
// does it (runtime/pna.ts): iptables-nft queues the hello of a masqueraded
// connection (xt NFQUEUE, bypass: while no runtime reads the queue the
// hello passes unchanged, as with the module unloaded), the runtime picks a
// gateway port per record, adds (server . gateway port) -> (client . port)
// to the hole map and puts the gateway port in the record. The hole
// de-masquerades only the server's UDP to that port, to the client that
// sent the hello (its source address, never the payload's word).
//
// RTSP part (§3.2): a SETUP on a bound port names the client's RTP/RTCP
// ports in `Transport: ... client_port=N[-M];`. 2.2 put its masquerade
// ports there in decimal (the length changed, sequence deltas followed);
// here each number is replaced by a gateway port of the same width, so the
// segment keeps its length and the same queue and hole map serve it.
import { FORWARDED_LABEL, MASQ_LABELS } from '../nft/labels.ts'
import type { AppRendering } from './apps.ts'
import { portSet } from './bind.ts'
import type { LoadedApp } from './model.ts'

export const PNA_HOLE_MAP = 'pna_hole'
/** 2.2 put a hole in LISTEN state: 2 minutes until the server's audio moves it on. */
export const PNA_HOLE_SECONDS = 120
/** The NFQUEUE number the hellos are queued to. */
export const PNA_QUEUE = 7070
const PNA_VERSION_LIMIT = 256
/** Record ids carrying a client UDP port: 1 audio data, 7 Robust-UDP. */
const PORT_RECORDS = [1, 7]
/** A hello naming more distinct ports than this opens holes for the first ones only. */
export const PNA_MAX_PORTS = 8
/** Where gateway ports are picked from (2.2's masquerade range). */
export const GATEWAY_PORTS = { first: 61000, count: 4096 } as const

export interface PortRange {
  readonly first: number
  readonly count: number
}

/** Gives a gateway port from a range; with `pair`, an even one whose next port is free to take too. */
export type PortPicker = (range: PortRange, pair?: boolean) => number

/**
 * Hands out each range's ports in turn, as 2.2 masquerading took its ports
 * from a rolling counter: a port comes round again only after the whole
 * range, so a new hole seldom finds its port still held (a refused element
 * aborts its transaction, and an abort waits for an RCU grace period: tens
 * of milliseconds a verdict waited). `random` places the first port, so a
 * runtime started again does not begin where the last one did.
 */
export const rollingPorts = (random: () => number): PortPicker => {
  const next = new Map<PortRange, number>()
  return (range, pair = false) => {
    const at = next.get(range) ?? Math.floor(random() * range.count)
    const offset = pair ? (at + (at & 1)) % range.count : at % range.count
    next.set(range, (offset + (pair ? 2 : 1)) % range.count)
    return range.first + offset
  }
}

export const renderRaudio = (): AppRendering => ({
  maps: [{ name: PNA_HOLE_MAP, key: 'ipv4_addr . inet_service', value: 'ipv4_addr . inet_service', timeoutSeconds: PNA_HOLE_SECONDS }],
  // The audio is de-masqueraded: it skips forward.
  natPrerouting: [
    {
      matches: ['fib daddr type local', 'meta l4proto udp', `ip saddr . udp dport @${PNA_HOLE_MAP}`],
      stmts: [`ct label set ${FORWARDED_LABEL}`, `dnat ip to ip saddr . udp dport map @${PNA_HOLE_MAP}`],
    },
  ],
})

/**
 * The iptables-nft rules (arguments after `-A FORWARD` of table mangle)
 * queueing the hellos of the connections raudio is bound to: masqueraded
 * (either tool's label), to one of its ports, payload starting "PNA".
 */
export const pnaQueueRules = (apps: readonly LoadedApp[]): string[][] => {
  const ports = [...new Set(apps.filter((a) => a.app === 'raudio').flatMap((a) => a.ports))].sort((a, b) => a - b)
  if (!ports.length) return []
  return MASQ_LABELS.map((label) => [
    '-p',
    'tcp',
    '-m',
    'multiport',
    '--dports',
    portSet(ports).replace(/[{} ]/g, ''),
    '-m',
    'connlabel',
    '--label',
    String(label),
    '-m',
    'u32',
    '--u32',
    // The first three bytes after the TCP header (data offset) are "PNA" or "SET" (an RTSP SETUP).
    '0>>22&0x3C@12>>26&0x3C@0>>8=0x504E41,0x534554',
    '-j',
    'NFQUEUE',
    '--queue-num',
    String(PNA_QUEUE),
    '--queue-bypass',
  ])
}

/** A record naming a client UDP port: its id, the port, and where the port's two bytes are in the payload. */
export interface PnaPortRecord {
  readonly id: number
  readonly port: number
  readonly offset: number
}

/**
 * The port records of a PNA hello, as 2.2 walked them: "PNA", a version
 * below 256, then records until id 0 or one overrunning the payload; a
 * port record's first two bytes are the port, 0 is ignored. Not a hello
 * (or an unsupported version): undefined.
 */
export const pnaPortRecords = (payload: Uint8Array): PnaPortRecord[] | undefined => {
  if (payload.length < 5 || payload[0] !== 0x50 || payload[1] !== 0x4e || payload[2] !== 0x41) return undefined
  const u16 = (at: number): number => ((payload[at] ?? 0) << 8) | (payload[at + 1] ?? 0)
  if (u16(3) >= PNA_VERSION_LIMIT) return undefined
  const out: PnaPortRecord[] = []
  for (let at = 5; at + 4 <= payload.length;) {
    const id = u16(at)
    const length = u16(at + 2)
    if (id === 0 || at + 4 + length > payload.length) break
    if (PORT_RECORDS.includes(id) && length >= 2 && u16(at + 4) !== 0) out.push({ id, port: u16(at + 4), offset: at + 4 })
    at += 4 + length
  }
  return out
}

/** The TCP segment of an IPv4 packet: its addresses, ports, sequence number and where its payload starts. */
export interface TcpSegment {
  readonly saddr: string
  readonly daddr: string
  readonly sport: number
  readonly dport: number
  readonly seq: number
  /** Offset of the TCP header in the packet. */
  readonly tcp: number
  /** Offset of the payload in the packet. */
  readonly payload: number
  /** End of the IP datagram (total length). */
  readonly end: number
}

const dotted = (p: Uint8Array, at: number): string => `${p[at]}.${p[at + 1]}.${p[at + 2]}.${p[at + 3]}`

/** The TCP segment an IPv4 packet carries, or undefined (not IPv4/TCP, a fragment, or truncated). */
export const tcpSegment = (p: Uint8Array): TcpSegment | undefined => {
  if (p.length < 20 || (p[0] ?? 0) >> 4 !== 4 || p[9] !== 6) return undefined
  const ihl = ((p[0] ?? 0) & 0x0f) * 4
  const end = ((p[2] ?? 0) << 8) | (p[3] ?? 0)
  const fragment = (((p[6] ?? 0) & 0x3f) << 8) | (p[7] ?? 0)
  if (ihl < 20 || end > p.length || fragment !== 0 || end < ihl + 20) return undefined
  const tcp = ihl
  const payload = tcp + ((p[tcp + 12] ?? 0) >> 4) * 4
  if (payload < tcp + 20 || payload > end) return undefined
  const u16 = (at: number): number => ((p[at] ?? 0) << 8) | (p[at + 1] ?? 0)
  return {
    saddr: dotted(p, 12),
    daddr: dotted(p, 16),
    sport: u16(tcp),
    dport: u16(tcp + 2),
    seq: ((u16(tcp + 4) << 16) | u16(tcp + 6)) >>> 0,
    tcp,
    payload,
    end,
  }
}

const swap = (w: number): number => ((w & 0xff) << 8) | (w >> 8)

/**
 * The packet with each 16-bit word at `at` (into the whole packet) set to
 * its new value, the TCP checksum updated incrementally (RFC 1624). A word
 * at an odd distance from the TCP header counts byte-swapped in the sum.
 */
export const rewriteWords = (packet: Uint8Array, tcp: number, words: readonly { at: number; value: number }[]): Uint8Array => {
  const out = Uint8Array.from(packet)
  let sum = ~(((out[tcp + 16] ?? 0) << 8) | (out[tcp + 17] ?? 0)) & 0xffff
  for (const { at, value } of words) {
    const old = ((out[at] ?? 0) << 8) | (out[at + 1] ?? 0)
    const aligned = (at - tcp) % 2 === 0
    sum += (~(aligned ? old : swap(old)) & 0xffff) + (aligned ? value : swap(value))
    out[at] = value >> 8
    out[at + 1] = value & 0xff
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  const check = ~sum & 0xffff
  out[tcp + 16] = check >> 8
  out[tcp + 17] = check & 0xff
  return out
}

/** What a queued packet asks of the runtime: holes from `server` to `client` for `ports`. */
interface QueuedRequest {
  readonly segment: TcpSegment
  /** The client is the packet's source and the server its destination, whatever the payload says. */
  readonly client: string
  readonly server: string
  /** Distinct client ports. */
  readonly ports: readonly number[]
}

/** A PNA hello's request: its records' ports, at most PNA_MAX_PORTS. */
export interface PnaRequest extends QueuedRequest {
  readonly records: readonly PnaPortRecord[]
}

/** The request a queued IPv4 packet makes, or undefined (not a PNA hello naming a port: accepted as it is). */
export const pnaRequest = (packet: Uint8Array): PnaRequest | undefined => {
  const segment = tcpSegment(packet)
  const records = segment && pnaPortRecords(packet.subarray(segment.payload, segment.end))
  if (!segment || !records?.length) return undefined
  const ports = [...new Set(records.map((r) => r.port))].slice(0, PNA_MAX_PORTS)
  return { segment, records, client: segment.saddr, server: segment.daddr, ports }
}

/** The packet with each port record whose port got a hole naming its gateway port instead (undefined: nothing to change). */
export const pnaRewritten = (packet: Uint8Array, request: PnaRequest, holes: ReadonlyMap<number, number>): Uint8Array | undefined => {
  const words = request.records.flatMap((r) => {
    const gateway = holes.get(r.port)
    return gateway === undefined ? [] : [{ at: request.segment.payload + r.offset, value: gateway }]
  })
  return words.length ? rewriteWords(packet, request.segment.tcp, words) : undefined
}

/** A client port in an RTSP SETUP: its value, and where its digits are in the payload. */
export interface RtspPortText {
  readonly port: number
  readonly offset: number
  readonly width: number
}

const SETUP = 'SETUP '
const TRANSPORT = 'transport:'
const CLIENT_PORT = 'client_port'

/**
 * The client ports of an RTSP SETUP, as 2.2 scanned them: case-insensitive
 * `transport:`, then `client_port`, `=`, `N` or `N-M` (spaces and tabs
 * between), then `;`; any other character, or a port 0 or above 65535: none.
 * Not a SETUP: undefined.
 */
export const rtspClientPorts = (payload: Uint8Array): RtspPortText[] | undefined => {
  let text = ''
  for (const byte of payload) text += String.fromCharCode(byte)
  if (!text.startsWith(SETUP)) return undefined
  const lower = text.toLowerCase()
  const transport = lower.indexOf(TRANSPORT)
  const name = transport < 0 ? -1 : lower.indexOf(CLIENT_PORT, transport + TRANSPORT.length)
  if (name < 0) return []
  let at = name + CLIENT_PORT.length
  const blanks = (): void => {
    while (text[at] === ' ' || text[at] === '\t') at++
  }
  const number = (): RtspPortText | undefined => {
    const digits = /[0-9]+/y
    digits.lastIndex = at
    const found = digits.exec(text)?.[0]
    if (!found) return undefined
    at += found.length
    const port = Number(found)
    return port >= 1 && port <= 65535 ? { port, offset: at - found.length, width: found.length } : undefined
  }
  blanks()
  if (text[at++] !== '=') return []
  blanks()
  const first = number()
  if (!first) return []
  blanks()
  const ports = [first]
  if (text[at] === '-') {
    at++
    blanks()
    const second = number()
    if (!second) return []
    ports.push(second)
    blanks()
  }
  return text[at] === ';' ? ports : []
}

/** Where gateway ports of 4 digits are picked from, for a 4-digit client_port (the top 4096). */
export const SHORT_GATEWAY_PORTS = { first: 5904, count: 4096 } as const

/** The range a gateway port replacing a number `width` digits wide comes from (shorter ones padded with zeros); none below 4. */
const rangeFor = (width: number): PortRange | undefined => (width >= 5 ? GATEWAY_PORTS : width === 4 ? SHORT_GATEWAY_PORTS : undefined)

/**
 * A gateway port for each client port of a SETUP that can take one (a
 * number 4 digits wide or more), from `pick`; an RTP/RTCP pair N, N+1 gets
 * an even gateway port and the next.
 */
export const rtspGatewayPorts = (ports: readonly RtspPortText[], pick: PortPicker): Map<number, number> => {
  const [rtp, rtcp] = ports
  const holes = new Map<number, number>()
  const rtpRange = rtp && rangeFor(rtp.width)
  if (rtp && rtpRange && rtcp && rtcp.port === rtp.port + 1 && rangeFor(rtcp.width) === rtpRange) {
    const even = pick(rtpRange, true)
    holes.set(rtp.port, even)
    holes.set(rtcp.port, even + 1)
    return holes
  }
  for (const p of ports) {
    const range = rangeFor(p.width)
    if (range && !holes.has(p.port)) holes.set(p.port, pick(range))
  }
  return holes
}

/** An RTSP SETUP's request: the ports it names that can be rewritten. */
export interface RtspRequest extends QueuedRequest {
  readonly texts: readonly RtspPortText[]
}

/** The request a queued IPv4 packet makes as an RTSP SETUP, or undefined (accepted as it is). */
export const rtspRequest = (packet: Uint8Array): RtspRequest | undefined => {
  const segment = tcpSegment(packet)
  const texts = segment && rtspClientPorts(packet.subarray(segment.payload, segment.end))
  const ports = [...new Set((texts ?? []).filter((p) => rangeFor(p.width)).map((p) => p.port))]
  if (!segment || !texts || !ports.length) return undefined
  return { segment, texts, client: segment.saddr, server: segment.daddr, ports }
}

/** The SETUP with each client port that got a hole naming its gateway port instead, as wide (undefined: nothing to change). */
export const rtspRewritten = (packet: Uint8Array, request: RtspRequest, holes: ReadonlyMap<number, number>): Uint8Array | undefined => {
  const words = request.texts.flatMap((p) => {
    const gateway = holes.get(p.port)
    if (gateway === undefined) return []
    const at = request.segment.payload + p.offset
    const digits = String(gateway).padStart(p.width, '0')
    // Byte by byte, each as a word with the byte after it as it was.
    return [...digits].map((d, i) => ({ at: at + i, value: (d.charCodeAt(0) << 8) | (packet[at + i + 1] ?? 0) }))
  })
  return words.length ? rewriteWords(packet, request.segment.tcp, words) : undefined
}

/** What a queued packet (a PNA hello or an RTSP SETUP) asks of the runtime: holes from `server` to `client` for `ports`. */
export interface HoleRequest {
  readonly segment: TcpSegment
  readonly client: string
  readonly server: string
  readonly ports: readonly number[]
  /** A gateway port for each of `ports`, from `pick`. */
  readonly gatewayPorts: (pick: PortPicker) => Map<number, number>
  /** The packet naming the gateway ports of `holes` (undefined: nothing to change). */
  readonly rewritten: (holes: ReadonlyMap<number, number>) => Uint8Array | undefined
}

/** The request of a queued IPv4 packet, or undefined (neither asks for a hole: accepted as it is). */
export const holeRequest = (packet: Uint8Array): HoleRequest | undefined => {
  const pna = pnaRequest(packet)
  if (pna)
    return {
      ...pna,
      gatewayPorts: (pick) => new Map(pna.ports.map((port) => [port, pick(GATEWAY_PORTS)])),
      rewritten: (holes) => pnaRewritten(packet, pna, holes),
    }
  const rtsp = rtspRequest(packet)
  return (
    rtsp && {
      ...rtsp,
      gatewayPorts: (pick) => rtspGatewayPorts(rtsp.texts, pick),
      rewritten: (holes) => rtspRewritten(packet, rtsp, holes),
    }
  )
}
