// The kernel log lines of the old firewalls, built from the packet NFLOG
// hands over and the prefix the rule's log statement carries:
//   2.2 ip_fw.c dump_packet (ipchains -l)
//     Packet log: input DENY eth0 PROTO=6 10.1.2.3:1025 10.0.0.1:23 L=44 S=0x00 I=5431 F=0x4000 T=63 SYN (#3)
//   2.0 ip_fw.c ip_fw_chk (ipfwadm -o)
//     IP fw-in deny eth0 TCP 10.0.0.2:1025 10.0.0.1:23 L=44 S=0x00 I=1234 F=0x4000 T=64
// The prefix is the line's head exactly as the kernel printed it up to the
// interface (2.2: plus the rule number as "(#N)" at its end); the formatter
// adds what the packet says. Both kernels read IP option words as host-order
// integers: the values of an i386 (little-endian) are printed. The fragment
// word is in network order in both, as the spec's 2.0 example shows
// (docs/decisions.md).
import { dec2 } from '../common/printf.ts'

/** NFLOG groups the logging rules send to; the group says which kernel's line to print. */
export const LOG_GROUP = { ipchains: 22, ipfwadm: 20 } as const
/** `ipchains -o` (copy to the netlink device) copies to this group; no line is printed for it. */
export const NETLINK_COPY_GROUP = 0

const IPPROTO_ICMP = 1
const IPPROTO_TCP = 6
const IPPROTO_UDP = 17

const hex = (n: number, width: number): string => n.toString(16).toUpperCase().padStart(width, '0')
const be16 = (p: Uint8Array, at: number): number => ((p[at] ?? 0) << 8) | (p[at + 1] ?? 0)
const le32 = (p: Uint8Array, at: number): number =>
  (((p[at + 3] ?? 0) << 24) | ((p[at + 2] ?? 0) << 16) | ((p[at + 1] ?? 0) << 8) | (p[at] ?? 0)) >>> 0
const dotted = (p: Uint8Array, at: number): string => [0, 1, 2, 3].map((i) => p[at + i] ?? 0).join('.')

interface Header {
  readonly ihl: number
  readonly proto: number
  readonly offset: number
  /** Enough bytes captured for the transport header's first 8 (TCP: 14) bytes. */
  readonly l4: boolean
}

const header = (ip: Uint8Array): Header => {
  const ihl = ((ip[0] ?? 0) & 0x0f) * 4
  const proto = ip[9] ?? 0
  const need = proto === IPPROTO_TCP ? 14 : 8
  return { ihl, proto, offset: be16(ip, 6) & 0x1fff, l4: ip.length >= ihl + need }
}

// " O=0x%8.8X" per 32-bit word of IP options.
const options = (ip: Uint8Array, ihl: number): string => {
  let out = ''
  for (let at = 20; at < ihl; at += 4) out += ` O=0x${hex(le32(ip, at), 8)}`
  return out
}

// " L=%hu S=0x%2.2hX I=%hu F=0x%4.4hX T=%hu".
const tail = (ip: Uint8Array): string => ` L=${be16(ip, 2)} S=0x${hex(ip[1] ?? 0, 2)} I=${be16(ip, 4)} F=0x${hex(be16(ip, 6), 4)} T=${ip[8] ?? 0}`

/** 2.2: head "Packet log: CHAIN TARGET " (REDIRECT: and the port), `num` the rule's position in its chain. */
export const line22 = (head: string, num: number, iface: string, ip: Uint8Array): string => {
  const h = header(ip)
  let sport = 0xffff
  let dport = 0xffff
  let syn = false
  if (h.offset === 0 && h.l4) {
    if (h.proto === IPPROTO_TCP || h.proto === IPPROTO_UDP) {
      sport = be16(ip, h.ihl)
      dport = be16(ip, h.ihl + 2)
    }
    if (h.proto === IPPROTO_TCP) {
      const flags = ip[h.ihl + 13] ?? 0
      // tcp->syn && !(tcp->ack || tcp->rst)
      syn = (flags & 0x02) !== 0 && (flags & 0x14) === 0
    }
    if (h.proto === IPPROTO_ICMP) {
      sport = ip[h.ihl] ?? 0
      dport = ip[h.ihl + 1] ?? 0
    }
  }
  return (
    `${head}${iface} PROTO=${h.proto} ${dotted(ip, 12)}:${sport} ${dotted(ip, 16)}:${dport}` +
    `${tail(ip)}${options(ip, h.ihl)} ${syn ? 'SYN ' : ''}(#${num})`
  )
}

/** 2.0: head "IP fw-in acc " ... or "IP acct in "; `iface` undefined prints "-". */
export const line20 = (head: string, iface: string | undefined, ip: Uint8Array): string => {
  const h = header(ip)
  const first = h.offset === 0 && h.l4
  const ports = h.proto === IPPROTO_TCP || h.proto === IPPROTO_UDP
  const port = (at: number): string => (ports ? `:${first ? be16(ip, h.ihl + at) : 0xffff}` : '')
  const kind =
    h.proto === IPPROTO_TCP
      ? 'TCP'
      : h.proto === IPPROTO_UDP
        ? 'UDP'
        : h.proto === IPPROTO_ICMP
          ? `ICMP/${first ? (ip[h.ihl] ?? 0) : 0xff}`
          : `PROTO=${h.proto}`
  return `${head}${iface ?? '-'} ${kind} ${dotted(ip, 12)}${port(0)} ${dotted(ip, 16)}${port(2)}${tail(ip)}${options(ip, h.ihl)}`
}

/** The ipchains prefix: the line's head and the rule number, "Packet log: input DENY (#3)". */
export const prefix22 = (head: string, num: number): string => `${head}(#${num})`

/**
 * The kernel's line for a logged packet, from its group and prefix; the
 * interface is the one the old hook was given: the outgoing one where there
 * is one (forward, output), else the incoming one. Undefined for a group or
 * prefix no legacy rule writes.
 */
export const logLine = (
  group: number,
  prefix: string,
  ip: Uint8Array,
  indev: string | undefined,
  outdev: string | undefined,
): string | undefined => {
  const iface = outdev ?? indev
  if (group === LOG_GROUP.ipfwadm) return line20(prefix, iface, ip)
  if (group !== LOG_GROUP.ipchains) return undefined
  const m = /^(.*)\(#(\d+)\)$/s.exec(prefix)
  if (!m) return undefined
  return line22(m[1] ?? '', Number(m[2]), iface ?? '-', ip)
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

export interface LocalTime {
  readonly month: number
  readonly day: number
  readonly hours: number
  readonly minutes: number
  readonly seconds: number
}

/**
 * One syslog datagram for /dev/log as glibc's syslog(3) writes it, priority
 * kern.info (<6>) and tag "kernel", so syslog files it as the kernel's line.
 */
export const syslogDatagram = (line: string, t: LocalTime): string => {
  return `<6>${MONTHS[t.month] ?? 'Jan'} ${String(t.day).padStart(2, ' ')} ${dec2(t.hours)}:${dec2(t.minutes)}:${dec2(t.seconds)} kernel: ${line}`
}
