// nfnetlink messages as bytes: what the runtime reads from and writes to its
// NETLINK_NETFILTER socket. One reader for every subsystem the runtime serves
// (NFLOG here; a queue consumer adds its subsystem beside it).
// Layouts: linux/netlink.h, linux/netfilter/nfnetlink.h, nfnetlink_log.h.

export const NLMSG_ERROR = 2
export const NFNL_SUBSYS_ULOG = 4
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
  const len = 16 + body.length
  const type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG
  const flags = NLM_F_REQUEST | NLM_F_ACK
  const head = [len & 0xff, (len >> 8) & 0xff, 0, 0, type & 0xff, type >> 8, flags, 0, seq & 0xff, (seq >> 8) & 0xff, 0, 0, 0, 0, 0, 0]
  return Uint8Array.from([...head, ...body])
}
