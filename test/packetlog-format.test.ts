// The old kernels' log lines from packets built by hand (the spec's examples
// among them), the syslog datagram, and the NFLOG messages read and written.
import t from 'tap'
import { LOG_GROUP, line20, line22, logLine, syslogDatagram } from '../src/translate/packetlog/lines.ts'
import { loggedPacket, netlinkError, netlinkMessages, nflogBindRequest } from '../src/translate/packetlog/netlink.ts'

interface Ip {
  readonly proto: number
  readonly src: readonly number[]
  readonly dst: readonly number[]
  readonly len: number
  readonly id: number
  readonly frag?: number
  readonly ttl: number
  readonly tos?: number
  readonly options?: readonly number[]
  readonly l4: readonly number[]
}

const packet = (p: Ip): Uint8Array => {
  const options = p.options ?? []
  const ihl = 5 + options.length / 4
  const frag = p.frag ?? 0
  return Uint8Array.from([
    0x40 | ihl,
    p.tos ?? 0,
    p.len >> 8,
    p.len & 0xff,
    p.id >> 8,
    p.id & 0xff,
    frag >> 8,
    frag & 0xff,
    p.ttl,
    p.proto,
    0xde,
    0xad,
    ...p.src,
    ...p.dst,
    ...options,
    ...p.l4,
  ])
}

// TCP 1025 -> 23, flags byte at offset 13.
const tcp = (flags: number): number[] => [0x04, 0x01, 0x00, 0x17, 0, 0, 0, 1, 0, 0, 0, 0, 0x60, flags, 0x20, 0x00]
const SYN = 0x02
const ACK = 0x10

t.test('2.2 lines (ipchains -l)', async (t) => {
  const syn = packet({ proto: 6, src: [10, 1, 2, 3], dst: [10, 0, 0, 1], len: 44, id: 5431, frag: 0x4000, ttl: 63, l4: tcp(SYN) })
  t.equal(
    logLine(LOG_GROUP.ipchains, 'Packet log: input DENY (#3)', syn, 'eth0', undefined),
    'Packet log: input DENY eth0 PROTO=6 10.1.2.3:1025 10.0.0.1:23 L=44 S=0x00 I=5431 F=0x4000 T=63 SYN (#3)',
    'the spec example',
  )
  const synAck = packet({ proto: 6, src: [10, 1, 2, 3], dst: [10, 0, 0, 1], len: 44, id: 1, ttl: 64, l4: tcp(SYN | ACK) })
  t.equal(
    line22('Packet log: forward ACCEPT ', 7, 'ppp0', synAck),
    'Packet log: forward ACCEPT ppp0 PROTO=6 10.1.2.3:1025 10.0.0.1:23 L=44 S=0x00 I=1 F=0x0000 T=64 (#7)',
    'SYN with ACK is no SYN',
  )
  const icmp = packet({ proto: 1, src: [1, 2, 3, 4], dst: [5, 6, 7, 8], len: 84, id: 9, ttl: 64, tos: 0x10, l4: [3, 1, 0, 0, 0, 0, 0, 0] })
  t.equal(
    logLine(LOG_GROUP.ipchains, 'Packet log: input REDIRECT 8080 (#12)', icmp, 'eth1', undefined),
    'Packet log: input REDIRECT 8080 eth1 PROTO=1 1.2.3.4:3 5.6.7.8:1 L=84 S=0x10 I=9 F=0x0000 T=64 (#12)',
    'ICMP type and code as ports, REDIRECT with its port, TOS',
  )
  const fragment = packet({
    proto: 17,
    src: [1, 2, 3, 4],
    dst: [5, 6, 7, 8],
    len: 1500,
    id: 77,
    frag: 0x00b9,
    ttl: 60,
    l4: [0, 53, 0, 53, 0, 0, 0, 0],
  })
  t.equal(
    line22('Packet log: input - ', 1, 'eth0', fragment),
    'Packet log: input - eth0 PROTO=17 1.2.3.4:65535 5.6.7.8:65535 L=1500 S=0x00 I=77 F=0x00B9 T=60 (#1)',
    'a later fragment: no ports',
  )
  const gre = packet({ proto: 47, src: [1, 2, 3, 4], dst: [5, 6, 7, 8], len: 60, id: 2, ttl: 64, l4: [0, 0, 8, 0, 0, 0, 0, 0] })
  t.equal(
    line22('Packet log: mychain RETURN ', 2, 'eth0', gre),
    'Packet log: mychain RETURN eth0 PROTO=47 1.2.3.4:65535 5.6.7.8:65535 L=60 S=0x00 I=2 F=0x0000 T=64 (#2)',
    'another protocol',
  )
  const withOptions = packet({
    proto: 17,
    src: [1, 2, 3, 4],
    dst: [5, 6, 7, 8],
    len: 36,
    id: 3,
    ttl: 64,
    options: [7, 7, 4, 0, 0, 0, 0, 1],
    l4: [0x13, 0x88, 0x13, 0x89, 0, 8, 0, 0],
  })
  t.equal(
    line22('Packet log: input REJECT ', 1, 'eth0', withOptions),
    'Packet log: input REJECT eth0 PROTO=17 1.2.3.4:5000 5.6.7.8:5001 L=36 S=0x00 I=3 F=0x0000 T=64 O=0x00040707 O=0x01000000 (#1)',
    'option words as an i386 read them',
  )
  t.equal(
    logLine(LOG_GROUP.ipchains, 'Packet log: forward MASQ (#1)', synAck, 'lan0', 'wan0')?.split(' ')[4],
    'wan0',
    'the outgoing interface where there is one',
  )
  t.equal(logLine(LOG_GROUP.ipchains, 'no rule number', syn, 'eth0', undefined), undefined, 'a prefix without (#N)')
  t.equal(logLine(5, 'Packet log: input DENY (#3)', syn, 'eth0', undefined), undefined, 'a group no legacy rule writes')
})

t.test('2.0 lines (ipfwadm -o)', async (t) => {
  const syn = packet({ proto: 6, src: [10, 0, 0, 2], dst: [10, 0, 0, 1], len: 44, id: 1234, frag: 0x4000, ttl: 64, l4: tcp(SYN) })
  // 2.0 printed ip->frag_off without ntohs: an i386 shows DF as 0x0040.
  t.equal(
    logLine(LOG_GROUP.ipfwadm, 'IP fw-in deny ', syn, 'eth0', undefined),
    'IP fw-in deny eth0 TCP 10.0.0.2:1025 10.0.0.1:23 L=44 S=0x00 I=1234 F=0x0040 T=64',
    'the spec example (fragment word in host order)',
  )
  const udp = packet({
    proto: 17,
    src: [192, 168, 1, 10],
    dst: [203, 0, 113, 50],
    len: 28,
    id: 5,
    ttl: 63,
    l4: [0x04, 0x00, 0x27, 0x0f, 0, 8, 0, 0],
  })
  t.equal(
    logLine(LOG_GROUP.ipfwadm, 'IP fw-fwd acc/masq ', udp, 'lan0', 'wan0'),
    'IP fw-fwd acc/masq wan0 UDP 192.168.1.10:1024 203.0.113.50:9999 L=28 S=0x00 I=5 F=0x0000 T=63',
  )
  const ping = packet({ proto: 1, src: [1, 2, 3, 4], dst: [5, 6, 7, 8], len: 84, id: 6, ttl: 64, l4: [8, 0, 0, 0, 0, 0, 0, 0] })
  t.equal(line20('IP acct in ', 'eth0', ping), 'IP acct in eth0 ICMP/8 1.2.3.4 5.6.7.8 L=84 S=0x00 I=6 F=0x0000 T=64', 'ICMP/type, no ports')
  const fragment = packet({ proto: 1, src: [1, 2, 3, 4], dst: [5, 6, 7, 8], len: 84, id: 6, frag: 0x0010, ttl: 64, l4: [8, 0, 0, 0, 0, 0, 0, 0] })
  t.equal(
    line20('IP acct out ', undefined, fragment),
    'IP acct out - ICMP/255 1.2.3.4 5.6.7.8 L=84 S=0x00 I=6 F=0x1000 T=64',
    'a later ICMP fragment; no interface',
  )
  const gre = packet({ proto: 47, src: [1, 2, 3, 4], dst: [5, 6, 7, 8], len: 60, id: 2, ttl: 64, options: [1, 1, 1, 0], l4: [] })
  t.equal(
    line20('IP fw-out rej ', 'ppp0', gre),
    'IP fw-out rej ppp0 PROTO=47 1.2.3.4 5.6.7.8 L=60 S=0x00 I=2 F=0x0000 T=64 O=0x00010101',
    'another protocol, an option word',
  )
})

t.test('syslog datagram', async (t) => {
  t.equal(syslogDatagram('X', { month: 11, day: 2, hours: 4, minutes: 5, seconds: 6 }), '<6>Dec  2 04:05:06 kernel: X')
  t.equal(syslogDatagram('Y', { month: 0, day: 31, hours: 23, minutes: 59, seconds: 0 }), '<6>Jan 31 23:59:00 kernel: Y')
})

const le16 = (n: number): number[] => [n & 0xff, n >> 8]
const le32 = (n: number): number[] => [...le16(n & 0xffff), ...le16(n >>> 16)]
const attr = (type: number, value: readonly number[]): number[] => {
  const bytes = [...le16(4 + value.length), ...le16(type), ...value]
  while (bytes.length % 4) bytes.push(0)
  return bytes
}
const message = (type: number, seq: number, body: readonly number[]): number[] => [
  ...le32(16 + body.length),
  ...le16(type),
  0,
  0,
  ...le32(seq),
  0,
  0,
  0,
  0,
  ...body,
]

t.test('NFLOG messages', async (t) => {
  const ip = [...packet({ proto: 17, src: [1, 2, 3, 4], dst: [5, 6, 7, 8], len: 28, id: 1, ttl: 64, l4: [0, 1, 0, 2, 0, 8, 0, 0] })]
  const prefix = [...Buffer.from('IP fw-in acc ', 'latin1'), 0]
  const body = [2, 0, 0, 20, ...attr(1, [8, 0, 1, 0]), ...attr(10, prefix), ...attr(4, [0, 0, 0, 3]), ...attr(9, ip)]
  const ack = message(2, 1, [...le32(0), ...Array<number>(16).fill(0)])
  const busy = message(2, 2, [...le32(-16 >>> 0), ...Array<number>(16).fill(0)])
  const messages = netlinkMessages(Uint8Array.from([...message(0x0400, 0, body), ...ack, ...busy]))
  t.equal(messages.length, 3, 'three messages in one datagram')
  const logged = loggedPacket(messages[0]!)
  t.same(
    logged && { ...logged, payload: [...logged.payload] },
    { group: 20, prefix: 'IP fw-in acc ', payload: ip, indev: 3, outdev: undefined },
    'group, prefix, payload, incoming interface',
  )
  t.equal(loggedPacket(messages[1]!), undefined, 'an acknowledgement is no packet')
  t.equal(netlinkError(messages[1]!), 0, 'acknowledged')
  t.equal(netlinkError(messages[2]!), 16, 'EBUSY: the group is taken')

  const [request] = netlinkMessages(nflogBindRequest(22, 74, 7))
  t.equal(request?.type, 0x0401, 'an NFULNL_MSG_CONFIG')
  t.equal(request?.seq, 7)
  t.same(
    [...(request?.body ?? [])],
    [2, 0, 0, 22, ...attr(1, [1]), ...attr(2, [0, 0, 0, 74, 2, 0]), ...attr(3, [0, 1, 0, 0]), ...attr(4, [0, 0, 0, 1]), ...attr(5, [0, 0, 0, 128])],
    'bind, copy 74 bytes, batches of 64 KiB or 128 packets sent within 10 ms',
  )
})
