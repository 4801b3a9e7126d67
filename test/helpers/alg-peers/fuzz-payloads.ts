// Seeded control payloads for fuzzing the parsers of the masquerading
// application gateways: for each protocol the helpers parsed (IRC DCC,
// CU-SeeMe, VDOLive, Quake, RealAudio PNA, RTSP), payloads that are valid,
// hostile (well formed, but asking for a hole to another host, a low or
// out-of-range port, more records than fit, ...), mutations of those, and
// random bytes, some behind the protocol's magic. Each payload is a
// function of (protocol, seed, index) alone, so a failure is reproduced
// from the three numbers (streams as in test/helpers/fuzz.ts).
//
// A payload says what a valid or hostile one asks to be opened (`asks`),
// so a fuzz test can check that no hole goes to any address but the
// requesting client's, whatever the payload claimed.
import { type Rng, seededRng, streamSeed } from '../fuzz.ts'
import {
  CU_OC_HEADER,
  CU_RECORD,
  CTCP,
  cuHeader,
  cuOpenContinue,
  dccOffer,
  ipToInt,
  pnaHello,
  portValue,
  quakeAccept,
  quakeConnect,
  quakeServerInfoQuery,
  rtspMessage,
  vdoInitial,
  vdoSecondary,
} from './wire.mjs'

export const FUZZ_PROTOCOLS = ['irc', 'cuseeme', 'vdolive', 'quake', 'pna', 'rtsp'] as const
export type FuzzProtocol = (typeof FUZZ_PROTOCOLS)[number]

/** The addresses of the connection the payload travels on (the lab's by default). */
export interface FuzzContext {
  /** The internal host that opened the control connection. */
  readonly client: string
  readonly server: string
  /** The masquerading address. */
  readonly gateway: string
}

export const LAB_CONTEXT: FuzzContext = { client: '192.168.1.10', server: '203.0.113.50', gateway: '203.0.113.1' }

export type How = 'valid' | 'hostile' | 'mutated' | 'random'

export interface FuzzPayload {
  readonly protocol: FuzzProtocol
  readonly seed: number
  readonly index: number
  readonly how: How
  /** 'out': client to server (the helper's pkt_out); 'in': server to client (pkt_in). */
  readonly direction: 'out' | 'in'
  /** One TCP segment's or UDP datagram's payload. */
  readonly bytes: Buffer
  readonly note: string
  /** What a valid or hostile payload asks for: a hole to `addr` (the client's own when absent) at `ports`. */
  readonly asks?: { readonly addr?: string; readonly ports: readonly number[] }
}

type Built = Omit<FuzzPayload, 'protocol' | 'seed' | 'index' | 'how'>

const below = (rng: Rng, n: number): number => Math.floor(rng() * n)
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[below(rng, xs.length)] as T
const between = (rng: Rng, lo: number, hi: number): number => lo + below(rng, hi - lo + 1)
const shuffle = <T>(rng: Rng, xs: readonly T[]): T[] => {
  const out = [...xs]
  for (let i = out.length - 1; i > 0; i--) {
    const j = below(rng, i + 1)
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  return out
}
const randomBytes = (rng: Rng, n: number): Buffer => Buffer.from(Array.from({ length: n }, () => below(rng, 256)))
const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1')

/** A client port as clients picked them. */
const userPort = (rng: Rng): number => between(rng, 1024, 65535)
/** Ports a hostile payload names: 0, privileged, the gateway's own services, the edges. */
const HOSTILE_PORTS = [0, 1, 21, 22, 25, 53, 111, 554, 1023, 6000, 6667, 7070, 65535] as const
/** Addresses a hostile payload names instead of the client's. */
const otherHosts = (ctx: FuzzContext): string[] => [
  ctx.gateway,
  ctx.server,
  '192.168.1.11',
  '10.0.0.1',
  '127.0.0.1',
  '0.0.0.0',
  '255.255.255.255',
  '224.0.0.1',
]

// ---------------------------------------------------------------------------
// Valid and hostile payloads per protocol

type Builder = (rng: Rng, ctx: FuzzContext) => Built

const IRC_TYPES = ['SEND', 'CHAT', 'MOVE', 'TSEND', 'SCHAT'] as const

const ircLine = (to: string, ctcp: string): string => `PRIVMSG ${to} :${ctcp}\r\n`
const ircValid: Builder = (rng, ctx) => {
  const port = userPort(rng)
  const type = pick(rng, IRC_TYPES)
  const name = type === 'CHAT' || type === 'SCHAT' ? 'chat' : `file${below(rng, 1000)}.bin`
  const before = pick(rng, ['', 'PING :irc.lab\r\n', 'PRIVMSG #lab :hello\r\n', `NOTICE bob :${CTCP}VERSION${CTCP}\r\n`])
  const size = type === 'CHAT' || type === 'SCHAT' ? undefined : between(rng, 0, 2 ** 31)
  const text = before + ircLine('bob', dccOffer(type, name, ctx.client, port, size))
  return { direction: 'out', bytes: latin1(text), note: `DCC ${type} from the client's own address, port ${port}`, asks: { ports: [port] } }
}
const ircHostile: Builder = (rng, ctx) => {
  const variant = below(rng, 6)
  const port = userPort(rng)
  if (variant === 0) {
    const addr = pick(rng, otherHosts(ctx))
    return {
      direction: 'out',
      bytes: latin1(ircLine('bob', dccOffer('SEND', 'x', addr, port, 1))),
      note: `DCC SEND naming ${addr}`,
      asks: { addr, ports: [port] },
    }
  }
  if (variant === 1) {
    const p = pick(rng, HOSTILE_PORTS)
    return {
      direction: 'out',
      bytes: latin1(ircLine('bob', dccOffer('SEND', 'x', ctx.client, p, 1))),
      note: `DCC SEND to port ${p}`,
      asks: { ports: [p] },
    }
  }
  if (variant === 2) {
    const n = pick(rng, ['4294967296', '99999999999999999999', '-1', '0x7f000001', '', '3232235786 3232235786'])
    const p = pick(rng, ['65536', '4294967297', '-80', '', '1e3'])
    return {
      direction: 'out',
      bytes: latin1(`PRIVMSG bob :${CTCP}DCC SEND x ${n} ${p} 1${CTCP}\r\n`),
      note: `DCC SEND with numbers out of range (${n} ${p})`,
    }
  }
  if (variant === 3) {
    // Only the first DCC of a packet was rewritten; the second names another host.
    const first = dccOffer('SEND', 'a', ctx.client, port, 1)
    const second = dccOffer('SEND', 'b', pick(rng, otherHosts(ctx)), userPort(rng), 1)
    return {
      direction: 'out',
      bytes: latin1(ircLine('bob', first) + ircLine('bob', second)),
      note: 'two DCC offers in one segment',
      asks: { ports: [port] },
    }
  }
  if (variant === 4) {
    const name = 'x'.repeat(between(rng, 200, 1400))
    return {
      direction: 'out',
      bytes: latin1(ircLine('bob', dccOffer('SEND', name, ctx.client, port, 1))),
      note: 'DCC SEND with a very long name',
      asks: { ports: [port] },
    }
  }
  const cut = dccOffer('SEND', 'x', ctx.client, port, 1).slice(0, between(rng, 5, 20))
  return { direction: 'out', bytes: latin1(`PRIVMSG bob :${cut}`), note: 'a DCC cut short (no CTCP end, no line end)' }
}

const cuValid: Builder = (rng, ctx) => {
  if (rng() < 0.5) {
    const h = { destPort: 7648, destAddr: ctx.server, port: userPort(rng), addr: ctx.client, seq: below(rng, 2 ** 32) }
    const b =
      rng() < 0.5 ? cuOpenContinue(h, { seqNo: h.seq, userName: 'alice' }) : cuHeader({ ...h, dataType: pick(rng, [1, 2, 257]), packetLen: 26 })
    return { direction: 'out', bytes: b, note: 'a client packet claiming its own address' }
  }
  const others = Array.from({ length: below(rng, 6) }, () => ({ addr: `198.51.100.${between(rng, 1, 254)}` }))
  const at = below(rng, others.length + 1)
  const clients = [...others.slice(0, at), { addr: ctx.gateway }, ...others.slice(at)]
  const b = cuOpenContinue(
    { destPort: userPort(rng), destAddr: ctx.gateway, port: 7648, addr: ctx.server, seq: below(rng, 1000) },
    { seqNo: 1, userName: 'reflector', clients },
  )
  return { direction: 'in', bytes: b, note: `a reflector's Open Continue, the client's record at ${at} of ${clients.length}` }
}
const cuHostile: Builder = (rng, ctx) => {
  const variant = below(rng, 4)
  const h = { destPort: userPort(rng), destAddr: ctx.gateway, port: 7648, addr: ctx.server, seq: 1 }
  if (variant === 0) {
    // client_count far beyond the records present (2.2 compared it unswapped).
    const b = cuOpenContinue(h, { seqNo: 1, userName: 'r', clients: [{ addr: ctx.gateway }] })
    b.writeUInt16BE(pick(rng, [0xffff, 0x0100, 0x8000, 2]), 26)
    return { direction: 'in', bytes: b.subarray(0, between(rng, CU_OC_HEADER, b.length)), note: 'client_count beyond the records' }
  }
  if (variant === 1) {
    const clients = Array.from({ length: between(rng, 5, 100) }, () => ({ addr: ctx.gateway }))
    return {
      direction: 'in',
      bytes: cuOpenContinue(h, { seqNo: 1, userName: 'r', clients }),
      note: `${clients.length} records all naming the gateway`,
    }
  }
  if (variant === 2) {
    const b = cuHeader({ ...h, dataType: 101, packetLen: 0xffff })
    return {
      direction: pick(rng, ['in', 'out'] as const),
      bytes: b.subarray(0, pick(rng, [0, 1, 25, 26])),
      note: 'a header cut short, or an Open Continue of header length only',
    }
  }
  const b = cuOpenContinue({ ...h, destAddr: pick(rng, otherHosts(ctx)) }, { seqNo: 1, userName: 'r', clients: [{ addr: ctx.gateway }] })
  b.writeUInt16BE(below(rng, 0x10000), 24)
  return {
    direction: 'in',
    bytes: Buffer.concat([b, randomBytes(rng, below(rng, CU_RECORD))]),
    note: 'dest_addr of another host, packet_len lying, a partial record',
  }
}

const vdoValid: Builder = (rng) => {
  const port = userPort(rng)
  const tag6 = vdoInitial(port, `clip${below(rng, 100)}`)
  const tag1 = vdoSecondary(port)
  const which = below(rng, 3)
  const bytes = which === 0 ? tag6 : which === 1 ? tag1 : Buffer.concat([tag6, tag1])
  return { direction: 'out', bytes, note: ['tag 6', 'tag 1', 'tag 6 and tag 1 in one segment'][which] as string, asks: { ports: [port] } }
}
const vdoHostile: Builder = (rng) => {
  const variant = below(rng, 4)
  if (variant === 0) {
    const p = pick(rng, HOSTILE_PORTS)
    return { direction: 'out', bytes: pick(rng, [vdoInitial(p), vdoSecondary(p)]), note: `control packet naming port ${p}`, asks: { ports: [p] } }
  }
  if (variant === 1) {
    const b = vdoInitial(userPort(rng))
    return { direction: 'out', bytes: b.subarray(0, pick(rng, [0, 4, 7, 8, 20, 33, 35])), note: 'tag 6 cut short' }
  }
  if (variant === 2) {
    // Tag 6 announces one port, tag 1 another: the module kept the first.
    const [a, b] = [userPort(rng), userPort(rng)]
    return {
      direction: 'out',
      bytes: Buffer.concat([vdoInitial(a), vdoSecondary(b)]),
      note: `tag 6 port ${a}, tag 1 port ${b}`,
      asks: { ports: [a] },
    }
  }
  const b = vdoInitial(userPort(rng))
  b.writeUInt32BE(pick(rng, [0, 2, 7, 0xffffffff, 0x06000000]), 4)
  return { direction: 'out', bytes: b, note: 'a tag the module ignored, the magic still in place' }
}

const quakeValid: Builder = (rng) => {
  const roll = rng()
  if (roll < 0.35) return { direction: 'out', bytes: quakeConnect(), note: 'CCREQ_CONNECT' }
  if (roll < 0.5) return { direction: 'out', bytes: quakeServerInfoQuery(), note: 'CCREQ_SERVER_INFO (asks for nothing)' }
  const port = userPort(rng)
  return { direction: 'in', bytes: quakeAccept(port), note: `CCREP_ACCEPT naming port ${port}`, asks: { ports: [port] } }
}
const quakeHostile: Builder = (rng) => {
  const variant = below(rng, 4)
  if (variant === 0) {
    const b = quakeAccept(0)
    b.writeUInt32LE(pick(rng, [0, 1, 0x10000, 0xffffffff, 26000, 6000]), 5)
    return { direction: pick(rng, ['in', 'out'] as const), bytes: b, note: `CCREP_ACCEPT naming port ${b.readUInt32LE(5)}` }
  }
  if (variant === 1) {
    const b = quakeConnect()
    b.writeUInt16BE(pick(rng, [0, 4, 5, 11, 0xffff]), 2)
    return { direction: 'out', bytes: b, note: 'CCREQ_CONNECT whose length field lies' }
  }
  if (variant === 2) {
    const b = quakeAccept(userPort(rng))
    return { direction: 'in', bytes: b.subarray(0, pick(rng, [0, 3, 4, 5, 8])), note: 'CCREP_ACCEPT cut short' }
  }
  const b = quakeConnect()
  b[11] = pick(rng, [0, 2, 4, 255])
  return { direction: 'out', bytes: b, note: `CCREQ_CONNECT of protocol version ${b[11]}` }
}

/** Records other than the port records: ids and values the module skipped by their length. */
const opaqueRecords = (rng: Rng, n: number): { id: number; value: Buffer }[] =>
  Array.from({ length: n }, () => ({ id: pick(rng, [2, 3, 4, 5, 6, 8, 0x10, 0x2a, 0x100, 0xffff]), value: randomBytes(rng, below(rng, 40)) }))

const pnaValid: Builder = (rng) => {
  const data = userPort(rng)
  const ports = [{ id: 1, value: portValue(data) }]
  const robust = rng() < 0.5 ? userPort(rng) : undefined
  if (robust !== undefined) ports.push({ id: 7, value: portValue(robust) })
  const records = shuffle(rng, [...ports, ...opaqueRecords(rng, below(rng, 6))])
  return {
    direction: 'out',
    bytes: pnaHello(below(rng, 256), records),
    note: `records ${records.map((r) => r.id).join(',')}`,
    asks: { ports: robust === undefined ? [data] : [data, robust] },
  }
}
const pnaHostile: Builder = (rng) => {
  const variant = below(rng, 6)
  if (variant === 0)
    return {
      direction: 'out',
      bytes: pnaHello(between(rng, 256, 0xffff), [{ id: 1, value: portValue(userPort(rng)) }]),
      note: 'version 256 or more',
    }
  if (variant === 1) {
    const p = pick(rng, HOSTILE_PORTS)
    return {
      direction: 'out',
      bytes: pnaHello(10, shuffle(rng, [{ id: pick(rng, [1, 7]), value: portValue(p) }, ...opaqueRecords(rng, 3)])),
      note: `a port record naming ${p}`,
      asks: { ports: [p] },
    }
  }
  if (variant === 2) {
    const value = randomBytes(rng, pick(rng, [0, 1, 3, 255]))
    return { direction: 'out', bytes: pnaHello(10, [{ id: pick(rng, [1, 7]), value }]), note: `a port record of length ${value.length}` }
  }
  if (variant === 3) {
    const records = Array.from({ length: between(rng, 20, 200) }, () => ({ id: pick(rng, [1, 7]), value: portValue(userPort(rng)) }))
    return { direction: 'out', bytes: pnaHello(10, records), note: `${records.length} port records` }
  }
  if (variant === 4) {
    const b = pnaHello(10, [...opaqueRecords(rng, 2), { id: 1, value: portValue(userPort(rng)) }])
    // A record whose length runs past the end of the segment.
    b.writeUInt16BE(pick(rng, [0xffff, b.length, 0x8000]), 7)
    return { direction: 'out', bytes: b.subarray(0, b.length - 2), note: 'a record length past the end, no terminator' }
  }
  const p = userPort(rng)
  const b = Buffer.concat([pnaHello(10, opaqueRecords(rng, 1)), pnaHello(10, [{ id: 1, value: portValue(p) }]).subarray(5)])
  return { direction: 'out', bytes: b, note: 'a port record after the id 0 end (never parsed)' }
}

const rtspUrl = (ctx: FuzzContext): string => `rtsp://${ctx.server}/clip.rm`
const rtspValid: Builder = (rng, ctx) => {
  const method = pick(rng, ['OPTIONS', 'DESCRIBE', 'SETUP', 'SETUP', 'SETUP'] as const)
  if (method !== 'SETUP')
    return { direction: 'out', bytes: latin1(rtspMessage(`${method} ${rtspUrl(ctx)} RTSP/1.0`, { CSeq: String(below(rng, 100)) })), note: method }
  const rtp = 2 * between(rng, 512, 32767)
  const pair = rng() < 0.7
  const eq = pick(rng, ['=', ' = ', '=\t'])
  const dash = pick(rng, ['-', ' - '])
  const name = pick(rng, ['Transport', 'transport', 'TRANSPORT'])
  const transport = `${pick(rng, ['RTP/AVP', 'RTP/AVP/UDP', 'x-real-rdt/udp'])};unicast;client_port${eq}${rtp}${pair ? `${dash}${rtp + 1}` : ''};mode=play`
  return {
    direction: 'out',
    bytes: latin1(rtspMessage(`SETUP ${rtspUrl(ctx)}/track1 RTSP/1.0`, { CSeq: '3', [name]: transport })),
    note: `SETUP ${transport}`,
    asks: { ports: pair ? [rtp, rtp + 1] : [rtp] },
  }
}
const rtspHostile: Builder = (rng, ctx) => {
  const setup = (transport: string): Buffer => latin1(rtspMessage(`SETUP ${rtspUrl(ctx)} RTSP/1.0`, { CSeq: '3', Transport: transport }))
  const variant = below(rng, 5)
  if (variant === 0) {
    const spec = pick(rng, ['0', '0-1', '21-22', '65535-65536', '99999999', '4294967297-4294967298', '6000-6001', '1023'])
    return { direction: 'out', bytes: setup(`RTP/AVP;unicast;client_port=${spec};`), note: `client_port=${spec}` }
  }
  if (variant === 1) {
    const spec = pick(rng, ['5000-', '-5001', '5001-5000', '5000-5001-5002', '5000x', '', '5000 5001'])
    return { direction: 'out', bytes: setup(`RTP/AVP;unicast;client_port=${spec};`), note: `malformed client_port=${spec}` }
  }
  if (variant === 2) {
    const addr = pick(rng, otherHosts(ctx))
    const p = userPort(rng)
    return {
      direction: 'out',
      bytes: setup(`RTP/AVP;unicast;destination=${addr};client_port=${p}-${p + 1};`),
      note: `destination=${addr}`,
      asks: { addr, ports: [p, p + 1] },
    }
  }
  if (variant === 3) {
    const p = userPort(rng)
    return { direction: 'out', bytes: setup(`RTP/AVP;unicast;client_port=${p}-${p + 1}`), note: 'client_port without the closing ;' }
  }
  const p = userPort(rng)
  const long = `RTP/AVP;${'x'.repeat(between(rng, 1000, 60000))};client_port=${p}-${p + 1};`
  return { direction: 'out', bytes: setup(long), note: `a Transport header of ${long.length} bytes`, asks: { ports: [p, p + 1] } }
}

const BUILDERS: Readonly<Record<FuzzProtocol, { valid: Builder; hostile: Builder; magic: readonly Buffer[] }>> = {
  irc: {
    valid: ircValid,
    hostile: ircHostile,
    magic: [latin1(`PRIVMSG bob :${CTCP}DCC SEND `), latin1(`${CTCP}DCC `), latin1(`${CTCP}DCC RESUME x `)],
  },
  cuseeme: {
    valid: cuValid,
    hostile: cuHostile,
    magic: [cuHeader({ destPort: 7648, destAddr: '0.0.0.0', port: 7648, addr: '0.0.0.0', seq: 0, dataType: 101, packetLen: 0 })],
  },
  vdolive: { valid: vdoValid, hostile: vdoHostile, magic: [vdoInitial(0).subarray(0, 32), vdoSecondary(0).subarray(0, 16)] },
  quake: { valid: quakeValid, hostile: quakeHostile, magic: [Buffer.from([0x80, 0x00]), Buffer.from([0x80, 0x00, 0x00, 0x09, 0x81])] },
  pna: { valid: pnaValid, hostile: pnaHostile, magic: [latin1('PNA'), latin1('PNA\0\x0a\0\x01\0\x02')] },
  rtsp: { valid: rtspValid, hostile: rtspHostile, magic: [latin1('OPTIONS '), latin1('SETUP rtsp://x RTSP/1.0\r\nTransport: client_port=')] },
}

// ---------------------------------------------------------------------------
// Mutations and random bytes

const INTERESTING_BYTES = [0x00, 0x01, 0x07, 0x0a, 0x0d, 0x20, 0x2d, 0x3b, 0x3d, 0x7f, 0x80, 0xff] as const
const INTERESTING_16 = [0, 1, 1023, 1024, 6000, 0x7fff, 0x8000, 0xfffe, 0xffff] as const
const INTERESTING_TEXT = [
  '\r\n',
  CTCP,
  ' ',
  ';',
  '-',
  '=',
  '0',
  '65536',
  '4294967296',
  String(ipToInt('127.0.0.1')),
  'client_port=',
  'DCC SEND ',
] as const

const mutateOnce = (rng: Rng, b: Buffer): Buffer => {
  const at = below(rng, b.length + 1)
  switch (below(rng, 8)) {
    case 0: {
      if (!b.length) return b
      const out = Buffer.from(b)
      const i = below(rng, out.length)
      out[i] = (out[i] as number) ^ (1 << below(rng, 8))
      return out
    }
    case 1: {
      if (!b.length) return b
      const out = Buffer.from(b)
      out[below(rng, out.length)] = pick(rng, INTERESTING_BYTES)
      return out
    }
    case 2: {
      if (b.length < 2) return b
      const out = Buffer.from(b)
      out.writeUInt16BE(pick(rng, INTERESTING_16), below(rng, out.length - 1))
      return out
    }
    case 3:
      return b.subarray(0, at)
    case 4:
      return Buffer.concat([b.subarray(0, at), randomBytes(rng, between(rng, 1, 16)), b.subarray(at)])
    case 5: {
      const end = Math.min(b.length, at + between(rng, 1, 32))
      return Buffer.concat([b.subarray(0, end), b.subarray(at, end), b.subarray(end)])
    }
    case 6:
      return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + between(rng, 1, 16)))])
    default:
      return Buffer.concat([b.subarray(0, at), latin1(pick(rng, INTERESTING_TEXT)), b.subarray(at)])
  }
}

const randomPayload = (rng: Rng, protocol: FuzzProtocol): Buffer => {
  const length = pick(rng, [0, 1, 2, 4, 8, 16, 26, 36, 56, 64, 200, 576, 1400])
  const tail = randomBytes(rng, below(rng, length + 1))
  return rng() < 0.5 ? Buffer.concat([pick(rng, BUILDERS[protocol].magic), tail]) : tail
}

// ---------------------------------------------------------------------------

/** The index-th payload of the protocol's stream for `seed`. */
export const fuzzPayload = (protocol: FuzzProtocol, seed: number, index: number, ctx: FuzzContext = LAB_CONTEXT): FuzzPayload => {
  const rng = seededRng(streamSeed(seed, `${protocol}:${index}`))
  const roll = rng()
  const how: How = roll < 0.25 ? 'valid' : roll < 0.5 ? 'hostile' : roll < 0.85 ? 'mutated' : 'random'
  const { valid, hostile } = BUILDERS[protocol]
  const head = { protocol, seed, index, how }
  if (how === 'valid') return { ...head, ...valid(rng, ctx) }
  if (how === 'hostile') return { ...head, ...hostile(rng, ctx) }
  if (how === 'random') return { ...head, direction: pick(rng, ['in', 'out'] as const), bytes: randomPayload(rng, protocol), note: 'random bytes' }
  const base = (rng() < 0.6 ? valid : hostile)(rng, ctx)
  const ops = between(rng, 1, 4)
  let bytes = base.bytes
  for (let i = 0; i < ops; i++) bytes = mutateOnce(rng, bytes)
  return { ...head, direction: base.direction, bytes, note: `${ops} mutation(s) of: ${base.note}` }
}

/** Payloads 0 .. count-1 of the protocol's stream for `seed`. */
export const fuzzPayloads = (protocol: FuzzProtocol, seed: number, count: number, ctx: FuzzContext = LAB_CONTEXT): FuzzPayload[] =>
  Array.from({ length: count }, (_, i) => fuzzPayload(protocol, seed, i, ctx))
