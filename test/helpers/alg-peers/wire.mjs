// The wire formats of the protocols the ip_masq_* helpers parsed, as the
// peers in this folder speak them and as the fuzz generator builds them.
// Byte layouts from /work/shared/spec/legacy/alg-modules.md (the 2.2
// modules): the fields a module read or rewrote sit exactly where it looked;
// the other fields are this project's choice and say so. Plain JavaScript:
// the peers run as `node X.mjs` inside lab namespaces (Node 20 runs no .ts).

// ---------------------------------------------------------------------------
// Addresses

/** "a.b.c.d" as the 32-bit host-order number IRC's DCC writes in decimal. */
export const ipToInt = (ip) => ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0)

export const intToIp = (n) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.')

const ipBytes = (ip) => Buffer.from(ip.split('.').map(Number))

const ipAt = (buf, offset) => [...buf.subarray(offset, offset + 4)].join('.')

// ---------------------------------------------------------------------------
// IRC (RFC 1459 lines) and CTCP DCC (ip_masq_irc: "\1DCC SEND name addr port size\1")

export const CTCP = '\x01'

/** One IRC line: [:prefix] COMMAND params... [:trailing] (without CR LF). */
export const parseIrcLine = (line) => {
  let rest = line
  let prefix = ''
  if (rest.startsWith(':')) {
    const space = rest.indexOf(' ')
    prefix = space < 0 ? rest.slice(1) : rest.slice(1, space)
    rest = space < 0 ? '' : rest.slice(space + 1)
  }
  const colon = rest.indexOf(' :')
  const trailing = colon < 0 ? undefined : rest.slice(colon + 2)
  const words = (colon < 0 ? rest : rest.slice(0, colon)).split(' ').filter(Boolean)
  const [command = '', ...params] = words
  return { prefix, command: command.toUpperCase(), params: trailing === undefined ? params : [...params, trailing] }
}

/** The CTCP body of a DCC offer. */
export const dccOffer = (type, name, addr, port, size) =>
  `${CTCP}DCC ${type} ${name} ${ipToInt(addr)} ${port}${size === undefined ? '' : ` ${size}`}${CTCP}`

/** A DCC offer in a PRIVMSG text: {type, name, addr, port, size}, or undefined. */
export const parseDcc = (text) => {
  const start = text.indexOf(`${CTCP}DCC `)
  if (start < 0) return undefined
  const m = /^DCC (SEND|CHAT|MOVE|TSEND|SCHAT|ACCEPT|RESUME) (\S+) (\d+) (\d+)(?: (\d+))?/.exec(text.slice(start + 1))
  if (!m) return undefined
  return { type: m[1], name: m[2], addr: intToIp(Number(m[3])), port: Number(m[4]), size: m[5] === undefined ? undefined : Number(m[5]) }
}

/** The file a DCC SEND offers: `size` bytes, the same on both sides. */
export const dccFile = (size) => Buffer.from(Array.from({ length: size }, (_, i) => (i * 7 + 3) % 251))

// ---------------------------------------------------------------------------
// CU-SeeMe (UDP 7648): cu_header (26 bytes) and Open Continue (56 + 12 a record)

export const CU_PORT = 7648
export const CU_HEADER = 26
export const CU_OC_HEADER = 56
export const CU_RECORD = 12
export const CU_OPEN_CONTINUE = 101
const AF_INET = 2

/** A cu_header; the fields ip_masq_cuseeme touched are addr (12) and dest_addr (4). */
export const cuHeader = (h) => {
  const b = Buffer.alloc(CU_HEADER)
  b.writeUInt16BE(AF_INET, 0)
  b.writeUInt16BE(h.destPort, 2)
  ipBytes(h.destAddr).copy(b, 4)
  b.writeUInt16BE(AF_INET, 8)
  b.writeUInt16BE(h.port, 10)
  ipBytes(h.addr).copy(b, 12)
  b.writeUInt32BE(h.seq >>> 0, 16)
  b.writeUInt16BE(h.msg ?? 0, 20)
  b.writeUInt16BE(h.dataType, 22)
  b.writeUInt16BE(h.packetLen, 24)
  return b
}

/** An Open Continue packet: header, client_count, seq_no, user_name (20), stuff (4), client_info records. */
export const cuOpenContinue = (h, oc) => {
  const records = oc.clients ?? []
  const b = Buffer.alloc(CU_OC_HEADER + CU_RECORD * records.length)
  cuHeader({ ...h, dataType: CU_OPEN_CONTINUE, packetLen: b.length }).copy(b, 0)
  b.writeUInt16BE(records.length, 26)
  b.writeUInt32BE(oc.seqNo >>> 0, 28)
  b.write(oc.userName.slice(0, 19), 32, 'latin1')
  records.forEach((r, i) => {
    const at = CU_OC_HEADER + CU_RECORD * i
    ipBytes(r.addr).copy(b, at)
    // 8 bytes of flags and counters: this peer writes the record's index.
    b.writeUInt32BE(i, at + 4)
  })
  return b
}

/** The header (and for Open Continue the name and records) of a CU-SeeMe packet, or undefined when shorter than a header. */
export const parseCu = (b) => {
  if (b.length < CU_HEADER) return undefined
  const header = {
    destPort: b.readUInt16BE(2),
    destAddr: ipAt(b, 4),
    port: b.readUInt16BE(10),
    addr: ipAt(b, 12),
    seq: b.readUInt32BE(16),
    dataType: b.readUInt16BE(22),
    packetLen: b.readUInt16BE(24),
  }
  if (header.dataType !== CU_OPEN_CONTINUE || b.length < CU_OC_HEADER) return { ...header }
  const count = b.readUInt16BE(26)
  const clients = []
  for (let i = 0; i < count && CU_OC_HEADER + CU_RECORD * (i + 1) <= b.length; i++) clients.push(ipAt(b, CU_OC_HEADER + CU_RECORD * i))
  return { ...header, userName: b.toString('latin1', 32, 52).replace(/\0.*$/s, ''), clients }
}

// ---------------------------------------------------------------------------
// VDOLive (TCP 7000 control): tag 6 (initial, 36 bytes) and tag 1 (secondary, 20 bytes)

export const VDO_PORT = 7000
const VDO_MAGIC = 'VDO Live'

// Bytes 0-3 (the record's length, which frames the TCP stream here) and the
// clip name at 8-23 of tag 6 are this peer's; the module read only the tag,
// the magic and the port.
/** The initial control packet: tag 6, "VDO Live" at 24, the client's UDP port at 34. */
export const vdoInitial = (udpPort, clip = 'clip') => {
  const b = Buffer.alloc(36)
  b.writeUInt32BE(b.length, 0)
  b.writeUInt32BE(6, 4)
  b.write(clip.slice(0, 16), 8, 'latin1')
  b.write(VDO_MAGIC, 24, 'latin1')
  b.writeUInt32BE(udpPort, 32)
  return b
}

/** The secondary control packet: tag 1, "VDO Live" at 8, the UDP port at 18. */
export const vdoSecondary = (udpPort) => {
  const b = Buffer.alloc(20)
  b.writeUInt32BE(b.length, 0)
  b.writeUInt32BE(1, 4)
  b.write(VDO_MAGIC, 8, 'latin1')
  b.writeUInt32BE(udpPort, 16)
  return b
}

/** {tag, port} of a control packet as ip_masq_vdolive read it, or undefined when it carries no port. */
export const parseVdo = (b) => {
  if (b.length < 8) return undefined
  const tag = b.readUInt32BE(4)
  if (tag === 6 && b.length >= 36 && b.toString('latin1', 24, 32) === VDO_MAGIC) return { tag, port: b.readUInt16BE(34) }
  if (tag === 1 && b.length >= 20 && b.toString('latin1', 8, 16) === VDO_MAGIC) return { tag, port: b.readUInt16BE(18) }
  return undefined
}

// ---------------------------------------------------------------------------
// Quake (NetQuake datagram protocol: 32-bit BE flags|length, then the message)

export const QUAKE_PORT = 26000
const NETFLAG_CTL = 0x80000000
const NETFLAG_UNRELIABLE = 0x00100000
const NETFLAG_ACK = 0x00020000
export const CCREQ_CONNECT = 0x01
export const CCREQ_SERVER_INFO = 0x02
export const CCREP_ACCEPT = 0x81
export const CCREP_SERVER_INFO = 0x83
const NET_PROTOCOL_VERSION = 3

const quakeControl = (message) => {
  const b = Buffer.alloc(4 + message.length)
  b.writeUInt32BE((NETFLAG_CTL | b.length) >>> 0, 0)
  message.copy(b, 4)
  return b
}

/** CCREQ_CONNECT: "QUAKE\0" and the protocol version 3 (12 bytes). */
export const quakeConnect = () => quakeControl(Buffer.from([CCREQ_CONNECT, ...Buffer.from('QUAKE\0', 'latin1'), NET_PROTOCOL_VERSION]))

/** CCREQ_SERVER_INFO, a server browser's query: "QUAKE\0" and the protocol version. */
export const quakeServerInfoQuery = () => quakeControl(Buffer.from([CCREQ_SERVER_INFO, ...Buffer.from('QUAKE\0', 'latin1'), NET_PROTOCOL_VERSION]))

/** CCREP_SERVER_INFO: address, host name, map (strings), players, maximum, protocol version. */
export const quakeServerInfo = (info) =>
  quakeControl(
    Buffer.concat([
      Buffer.from([CCREP_SERVER_INFO]),
      Buffer.from(`${info.address}\0${info.hostname}\0${info.map}\0`, 'latin1'),
      Buffer.from([info.players, info.maxPlayers, NET_PROTOCOL_VERSION]),
    ]),
  )

/** CCREP_ACCEPT: the server's new port, a little-endian long (9 bytes). */
export const quakeAccept = (port) => {
  const m = Buffer.alloc(5)
  m[0] = CCREP_ACCEPT
  m.writeUInt32LE(port, 1)
  return quakeControl(m)
}

/** An unreliable game message with its sequence number. */
export const quakeUnreliable = (seq, payload) => {
  const b = Buffer.alloc(8 + payload.length)
  b.writeUInt32BE((NETFLAG_UNRELIABLE | b.length) >>> 0, 0)
  b.writeUInt32BE(seq, 4)
  payload.copy(b, 8)
  return b
}

export const quakeAck = (seq) => {
  const b = Buffer.alloc(8)
  b.writeUInt32BE((NETFLAG_ACK | 8) >>> 0, 0)
  b.writeUInt32BE(seq, 4)
  return b
}

/** A Quake datagram: {control, command, port} for control packets, {unreliable|ack, seq} otherwise; undefined when malformed. */
export const parseQuake = (b) => {
  if (b.length < 5) return undefined
  const word = b.readUInt32BE(0)
  const length = word & 0xffff
  if ((word & NETFLAG_CTL) !== 0) {
    if (length !== b.length) return undefined
    const command = b[4]
    if (command === CCREQ_CONNECT && b.length >= 12 && b.toString('latin1', 5, 11) === 'QUAKE\0') return { control: true, command, version: b[11] }
    if (command === CCREQ_SERVER_INFO && b.length >= 12 && b.toString('latin1', 5, 11) === 'QUAKE\0')
      return { control: true, command, version: b[11] }
    if (command === CCREP_ACCEPT && b.length >= 9) return { control: true, command, port: b.readUInt32LE(5) }
    if (command === CCREP_SERVER_INFO) {
      const [address = '', hostname = '', map = ''] = b.toString('latin1', 5).split('\0')
      return { control: true, command, address, hostname, map }
    }
    return { control: true, command }
  }
  if (b.length < 8) return undefined
  if (word & NETFLAG_UNRELIABLE) return { unreliable: true, seq: b.readUInt32BE(4) }
  if (word & NETFLAG_ACK) return { ack: true, seq: b.readUInt32BE(4) }
  return undefined
}

// ---------------------------------------------------------------------------
// RealAudio PNA (TCP 7070): "PNA", version (BE16), records {id BE16, length BE16, value}, id 0 ends

export const PNA_PORT = 7070
export const PNA_UDP_PORT_RECORD = 1
export const PNA_ROBUST_PORT_RECORD = 7

/** A PNA hello with its records in the given order, ended by id 0. */
export const pnaHello = (version, records) => {
  const parts = [Buffer.from('PNA', 'latin1'), Buffer.alloc(2)]
  parts[1].writeUInt16BE(version, 0)
  for (const r of records) {
    const head = Buffer.alloc(4)
    head.writeUInt16BE(r.id, 0)
    head.writeUInt16BE(r.value.length, 2)
    parts.push(head, r.value)
  }
  parts.push(Buffer.alloc(2))
  return Buffer.concat(parts)
}

export const portValue = (port) => {
  const b = Buffer.alloc(2)
  b.writeUInt16BE(port, 0)
  return b
}

/**
 * A PNA hello read as ip_masq_raudio (2.2) walked it: {version, records,
 * complete}, records {id, length, port?} up to id 0 or the first record
 * that overruns the buffer (complete false). Undefined unless it starts with PNA.
 */
export const parsePna = (b) => {
  if (b.length < 5 || b.toString('latin1', 0, 3) !== 'PNA') return undefined
  const version = b.readUInt16BE(3)
  const records = []
  let at = 5
  while (at + 2 <= b.length) {
    const id = b.readUInt16BE(at)
    if (id === 0) return { version, records, complete: true, length: at + 2 }
    if (at + 4 > b.length) break
    const length = b.readUInt16BE(at + 2)
    if (at + 4 + length > b.length) break
    const isPort = (id === PNA_UDP_PORT_RECORD || id === PNA_ROBUST_PORT_RECORD) && length >= 2
    records.push({ id, length, ...(isPort ? { port: b.readUInt16BE(at + 4) } : {}) })
    at += 4 + length
  }
  return { version, records, complete: false, length: at }
}

// ---------------------------------------------------------------------------
// RTSP (TCP 554): requests and responses are text, "Transport: ...;client_port=N-M;..."

export const RTSP_PORT = 554

export const rtspMessage = (startLine, headers, body = '') =>
  [
    startLine,
    ...Object.entries({ ...headers, ...(body ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}) }).map(([k, v]) => `${k}: ${v}`),
    '',
    body,
  ].join('\r\n')

/** One complete message at the start of buf: {startLine, headers (lower-case names), body, length}, or undefined while incomplete. */
export const parseRtspMessage = (buf) => {
  const end = buf.indexOf('\r\n\r\n')
  if (end < 0) return undefined
  const [startLine = '', ...lines] = buf.toString('latin1', 0, end).split('\r\n')
  const headers = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  const bodyLength = Number(headers['content-length'] ?? 0)
  if (buf.length < end + 4 + bodyLength) return undefined
  return { startLine, headers, body: buf.toString('latin1', end + 4, end + 4 + bodyLength), length: end + 4 + bodyLength }
}

/** The ports of client_port=N[-M] in a Transport header, or undefined. */
export const clientPorts = (transport) => {
  const m = /client_port\s*=\s*(\d+)(?:\s*-\s*(\d+))?/i.exec(transport ?? '')
  return m ? [Number(m[1]), ...(m[2] ? [Number(m[2])] : [])] : undefined
}

/** An RTP packet (version 2, payload type 96) with its sequence number. */
export const rtpPacket = (seq, ssrc, payload) => {
  const b = Buffer.alloc(12 + payload.length)
  b[0] = 0x80
  b[1] = 96
  b.writeUInt16BE(seq & 0xffff, 2)
  b.writeUInt32BE((seq * 160) >>> 0, 4)
  b.writeUInt32BE(ssrc >>> 0, 8)
  payload.copy(b, 12)
  return b
}
