// nfnetlink messages as bytes: what the runtime reads from and writes to its
// NETLINK_NETFILTER socket. One reader for every subsystem the runtime serves
// (NFLOG, NFQUEUE, and nf_tables map elements).
// Layouts: linux/netlink.h, linux/netfilter/nfnetlink.h, nfnetlink_log.h.

export const NLMSG_ERROR = 2
const NFNL_SUBSYS_ULOG = 4
const NFULNL_MSG_PACKET = 0
const NFULNL_MSG_CONFIG = 1
const NLM_F_REQUEST = 1
const NLM_F_ACK = 4

/** One netlink message: its type, sequence number and the bytes after the header. */
export interface NetlinkMessage {
  readonly type: number
  readonly seq: number
  readonly body: Uint8Array
}

const u16le = (p: Uint8Array, at: number): number => (p[at] ?? 0) | ((p[at + 1] ?? 0) << 8)
const u32le = (p: Uint8Array, at: number): number => (u16le(p, at) | (u16le(p, at + 2) << 16)) >>> 0
const u16be = (p: Uint8Array, at: number): number => ((p[at] ?? 0) << 8) | (p[at + 1] ?? 0)
const u32be = (p: Uint8Array, at: number): number => ((u16be(p, at) << 16) | u16be(p, at + 2)) >>> 0
const align4 = (n: number): number => (n + 3) & ~3

/** The messages of one datagram read from the socket. */
export const netlinkMessages = (buf: Uint8Array): NetlinkMessage[] => {
  const out: NetlinkMessage[] = []
  for (let at = 0; at + 16 <= buf.length;) {
    const len = u32le(buf, at)
    if (len < 16 || at + len > buf.length) break
    out.push({ type: u16le(buf, at + 4), seq: u32le(buf, at + 8), body: buf.subarray(at + 16, at + len) })
    at += align4(len)
  }
  return out
}

/** The errno of an NLMSG_ERROR message (0: an acknowledgement). */
export const netlinkError = (m: NetlinkMessage): number => -(u32le(m.body, 0) | 0)

/** Attributes after the 4-byte nfgenmsg, by type (nested flag masked off). */
const attributes = (body: Uint8Array): Map<number, Uint8Array> => {
  const out = new Map<number, Uint8Array>()
  for (let at = 4; at + 4 <= body.length;) {
    const len = u16le(body, at)
    if (len < 4 || at + len > body.length) break
    out.set(u16le(body, at + 2) & 0x3fff, body.subarray(at + 4, at + len))
    at += align4(len)
  }
  return out
}

const NFULA = { IFINDEX_INDEV: 4, IFINDEX_OUTDEV: 5, PAYLOAD: 9, PREFIX: 10 } as const

/** What NFLOG reports of one logged packet. */
export interface LoggedPacket {
  readonly group: number
  readonly prefix: string
  /** The packet from its IP header on (as much as the copy range let through). */
  readonly payload: Uint8Array
  readonly indev: number | undefined
  readonly outdev: number | undefined
}

const latin1 = (p: Uint8Array): string => String.fromCharCode(...p)

/** The logged packet an NFLOG message carries, or undefined for any other message. */
export const loggedPacket = (m: NetlinkMessage): LoggedPacket | undefined => {
  if (m.type !== ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET) || m.body.length < 4) return undefined
  const attrs = attributes(m.body)
  const payload = attrs.get(NFULA.PAYLOAD)
  if (!payload) return undefined
  const prefix = attrs.get(NFULA.PREFIX) ?? new Uint8Array()
  const end = prefix.indexOf(0)
  const index = (a: Uint8Array | undefined): number | undefined => (a && a.length >= 4 ? u32be(a, 0) : undefined)
  return {
    group: u16be(m.body, 2),
    prefix: latin1(end < 0 ? prefix : prefix.subarray(0, end)),
    payload,
    indev: index(attrs.get(NFULA.IFINDEX_INDEV)),
    outdev: index(attrs.get(NFULA.IFINDEX_OUTDEV)),
  }
}

const attribute = (type: number, value: readonly number[]): number[] => {
  const len = 4 + value.length
  return [len & 0xff, len >> 8, type & 0xff, type >> 8, ...value, ...Array<number>(align4(len) - len).fill(0)]
}

const be32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]

const NFULA_CFG = { CMD: 1, MODE: 2, NLBUFSIZ: 3, TIMEOUT: 4, QTHRESH: 5 } as const
const NFULNL_CFG_CMD_BIND = 1
const NFULNL_COPY_PACKET = 2

/**
 * The config request binding this socket to NFLOG `group`, copying `range`
 * bytes of each packet, delivered within 10 ms (enough for the IP header with options and the
 * transport ports). Acknowledged by an NLMSG_ERROR message with `seq`.
 */
export const nflogBindRequest = (group: number, range: number, seq: number): Uint8Array => {
  const body = [
    2, // nfgen_family AF_INET
    0, // NFNETLINK_V0
    group >> 8,
    group & 0xff,
    ...attribute(NFULA_CFG.CMD, [NFULNL_CFG_CMD_BIND]),
    ...attribute(NFULA_CFG.MODE, [...be32(range), NFULNL_COPY_PACKET, 0]),
    // Packets are sent in batches of up to 128 (64 KiB), a batch at the
    // latest 10 ms after its first packet (the kernel's default waits a second).
    ...attribute(NFULA_CFG.NLBUFSIZ, be32(65536)),
    ...attribute(NFULA_CFG.TIMEOUT, be32(1)),
    ...attribute(NFULA_CFG.QTHRESH, be32(128)),
  ]
  return Uint8Array.from(message((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK, seq, body))
}

/** One netlink message: the 16-byte header, then `body`. */
const message = (type: number, flags: number, seq: number, body: readonly number[]): number[] => {
  const len = 16 + body.length
  const le32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff]
  return [...le32(len), type & 0xff, type >> 8, flags & 0xff, flags >> 8, ...le32(seq), 0, 0, 0, 0, ...body]
}

const be16 = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff]
const NLA_F_NESTED = 0x8000
const nested = (type: number, attrs: readonly number[][]): number[] => attribute(type | NLA_F_NESTED, attrs.flat())

// NFQUEUE (linux/netfilter/nfnetlink_queue.h).
export const NFNL_SUBSYS_QUEUE = 3
const NFQNL_MSG = { PACKET: 0, VERDICT: 1, CONFIG: 2 } as const
const NFQA = { PACKET_HDR: 1, VERDICT_HDR: 2, PAYLOAD: 10 } as const
const NFQA_CFG = { CMD: 1, PARAMS: 2 } as const
const NFQNL_CFG_CMD_BIND = 1
const NFQNL_COPY_PACKET = 2
const NF_ACCEPT = 1

/**
 * The config request binding this socket to queue `queue`, copying whole
 * packets (up to `range` bytes). Acknowledged with `seq`. Without the GSO
 * flag the kernel completes a partial checksum before queueing, so a
 * verdict's payload carries a checksum that is right.
 */
export const nfqueueBindRequest = (queue: number, range: number, seq: number): Uint8Array => {
  const body = [
    0, // AF_UNSPEC
    0,
    ...be16(queue),
    ...attribute(NFQA_CFG.CMD, [NFQNL_CFG_CMD_BIND, 0, ...be16(2)]),
    ...attribute(NFQA_CFG.PARAMS, [...be32(range), NFQNL_COPY_PACKET]),
  ]
  return Uint8Array.from(message((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG.CONFIG, NLM_F_REQUEST | NLM_F_ACK, seq, body))
}
/** A packet NFQUEUE hands over: its queue, its id (for the verdict) and the packet from its IP header on. */
export interface QueuedPacket {
  readonly queue: number
  readonly id: number
  readonly packet: Uint8Array
}

/** The queued packet a message carries, or undefined for any other message. */
export const queuedPacket = (m: NetlinkMessage): QueuedPacket | undefined => {
  if (m.type !== ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG.PACKET) || m.body.length < 4) return undefined
  const attrs = attributes(m.body)
  const head = attrs.get(NFQA.PACKET_HDR)
  const packet = attrs.get(NFQA.PAYLOAD)
  if (!head || head.length < 4 || !packet) return undefined
  return { queue: u16be(m.body, 2), id: u32be(head, 0), packet }
}

/** The verdict accepting queued packet `id`, replaced by `packet` when given. */
export const nfqueueAccept = (queue: number, id: number, packet?: Uint8Array): Uint8Array => {
  const body = [
    0,
    0,
    ...be16(queue),
    ...attribute(NFQA.VERDICT_HDR, [...be32(NF_ACCEPT), ...be32(id)]),
    ...(packet ? attribute(NFQA.PAYLOAD, [...packet]) : []),
  ]
  return Uint8Array.from(message((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG.VERDICT, NLM_F_REQUEST, 0, body))
}

// nf_tables (linux/netfilter/nf_tables.h): one element added to a map, in a batch.
const NFNL_SUBSYS_NFTABLES = 10
const NFNL_MSG_BATCH = { BEGIN: 0x10, END: 0x11 } as const
const NFT_MSG_NEWSETELEM = 12
const NLM_F_EXCL = 0x200
const NLM_F_CREATE = 0x400
const NFTA_SET_ELEM_LIST = { TABLE: 1, SET: 2, ELEMENTS: 3 } as const
const NFTA_LIST_ELEM = 1
const NFTA_SET_ELEM = { KEY: 1, DATA: 2, TIMEOUT: 4 } as const
const NFTA_DATA_VALUE = 1

const cString = (s: string): number[] => [...Array.from(s, (c) => c.charCodeAt(0) & 0xff), 0]
/** A concatenation's value as nf_tables holds it: each field padded to 4 bytes. */
const concatenation = (fields: readonly (readonly number[])[]): number[] =>
  fields.flatMap((f) => [...f, ...Array<number>(align4(f.length) - f.length).fill(0)])
const ipv4 = (dotted: string): number[] => dotted.split('.').map(Number)

/** An (ipv4_addr . inet_service) value. */
export interface AddrPort {
  readonly addr: string
  readonly port: number
}

/** One map element: key and value. */
export interface MapElement {
  readonly key: AddrPort
  readonly value: AddrPort
}

/**
 * The batch adding `elements` to the map `set` of table `ip table` with
 * `timeoutSeconds` in one transaction (one commit), failing as a whole
 * (EEXIST, acknowledged with `seq`) when a key is there already.
 */
export const mapElementBatch = (table: string, set: string, elements: readonly MapElement[], timeoutSeconds: number, seq: number): Uint8Array => {
  const batch = (type: number): number[] => message(type, NLM_F_REQUEST, seq, [0, 0, ...be16(NFNL_SUBSYS_NFTABLES)])
  const data = (v: AddrPort): number[][] => [attribute(NFTA_DATA_VALUE, concatenation([ipv4(v.addr), be16(v.port)]))]
  const ms = timeoutSeconds * 1000
  const element = ({ key, value }: MapElement): number[] =>
    nested(NFTA_LIST_ELEM, [
      nested(NFTA_SET_ELEM.KEY, data(key)),
      nested(NFTA_SET_ELEM.DATA, data(value)),
      attribute(NFTA_SET_ELEM.TIMEOUT, [...be32(Math.floor(ms / 2 ** 32)), ...be32(ms >>> 0)]),
    ])
  const body = [
    2, // NFPROTO_IPV4
    0,
    0,
    0,
    ...attribute(NFTA_SET_ELEM_LIST.TABLE, cString(table)),
    ...attribute(NFTA_SET_ELEM_LIST.SET, cString(set)),
    ...nested(NFTA_SET_ELEM_LIST.ELEMENTS, elements.map(element)),
  ]
  const flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL
  return Uint8Array.from([
    ...batch(NFNL_MSG_BATCH.BEGIN),
    ...message((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSETELEM, flags, seq, body),
    ...batch(NFNL_MSG_BATCH.END),
  ])
}
