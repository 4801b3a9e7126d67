// Seeded fuzzing of the parsers the resident runtime runs on packets: the
// RealAudio PNA hello and RTSP SETUP (translate/alg/raudio.ts: what a
// queued packet asks, and its rewrite) and the packet log's line formatter (packetlog/lines.ts,
// on every NFLOG packet). Payloads come from the ALG payload generator
// (valid, hostile, mutated, random; test/helpers/alg-peers/fuzz-payloads.ts)
// inside real IPv4/TCP packets, and the packets themselves are mutated.
// Nothing may throw; a hole is only ever asked from the packet's source
// (the requesting client) and for the ports the records carry; the rewrite
// changes nothing but the port words (digits) and keeps the TCP checksum right.
//
//   LEGACYFW_ALG_FUZZ_SEED    seed (default fixed; a failure names seed and index)
//   LEGACYFW_ALG_FUZZ_COUNT   payloads per kind (default 4000)
import t from 'tap'
import { type FuzzPayload, LAB_CONTEXT, fuzzPayload } from './helpers/alg-peers/fuzz-payloads.ts'
import { seededRng, streamSeed } from './helpers/fuzz.ts'
import {
  GATEWAY_PORTS,
  PNA_MAX_PORTS,
  SHORT_GATEWAY_PORTS,
  rollingPorts,
  holeRequest,
  pnaPortRecords,
  pnaRequest,
  pnaRewritten,
  rtspClientPorts,
} from '../src/translate/alg/raudio.ts'
import { LOG_GROUP, logLine } from '../src/translate/packetlog/lines.ts'

const SEED = Number(process.env['LEGACYFW_ALG_FUZZ_SEED'] ?? 19990701)
const COUNT = Number(process.env['LEGACYFW_ALG_FUZZ_COUNT'] ?? 4000)

const octets = (a: string): number[] => a.split('.').map(Number)
const sum16 = (b: Uint8Array, from: number, to: number, start = 0): number => {
  let s = start
  for (let i = from; i < to; i += 2) s += ((b[i] ?? 0) << 8) | (i + 1 < to ? (b[i + 1] ?? 0) : 0)
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16)
  return s
}

/** The TCP checksum over the pseudo header and the segment (0 when the stored one is right, computed with it in place). */
const tcpCheck = (p: Uint8Array, ihl: number): number => {
  const len = p.length - ihl
  const pseudo = sum16(p, 12, 20) + 6 + len
  return ~sum16(p, ihl, p.length, pseudo) & 0xffff
}

/** An IPv4/TCP packet from the client to the server's `dport` (7070) carrying `payload`, checksums right; `options` words of TCP options. */
const packet = (payload: Uint8Array, sport: number, options: number, dport = 7070): Uint8Array => {
  const ihl = 20
  const tcpLen = 20 + options * 4
  const p = new Uint8Array(ihl + tcpLen + payload.length)
  const total = p.length
  p.set([0x45, 0, total >> 8, total & 0xff, 0, 1, 0x40, 0, 64, 6, 0, 0, ...octets(LAB_CONTEXT.client), ...octets(LAB_CONTEXT.server)])
  const ipSum = ~sum16(p, 0, 20) & 0xffff
  p[10] = ipSum >> 8
  p[11] = ipSum & 0xff
  p.set([sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, 0, 0, 0x10, 0, 0, 0, 0, 0, (tcpLen / 4) << 4, 0x18, 0xff, 0xff], ihl)
  for (let i = 0; i < options; i++) p.set([1, 1, 1, 1], ihl + 20 + i * 4)
  p.set(payload, ihl + tcpLen)
  const check = tcpCheck(p, ihl)
  p[ihl + 16] = check >> 8
  p[ihl + 17] = check & 0xff
  return p
}

const where = (f: FuzzPayload): string => `seed ${f.seed} index ${f.index} (${f.how}: ${f.note})`

t.test('PNA hellos inside real packets: holes only for the client, from its own ports, a right checksum', async (t) => {
  let requests = 0
  let rewritten = 0
  const problems: string[] = []
  for (let i = 0; i < COUNT && problems.length < 5; i++) {
    const f = fuzzPayload('pna', SEED, i)
    const rng = seededRng(streamSeed(SEED, `pna-packet:${i}`))
    const p = packet(f.bytes, 1024 + Math.floor(rng() * 60000), Math.floor(rng() * 11))
    let request
    try {
      request = pnaRequest(p)
    } catch (e) {
      problems.push(`${where(f)}: threw ${(e as Error).message}`)
      continue
    }
    const records = pnaPortRecords(f.bytes) ?? []
    if (!request) {
      if (records.length) problems.push(`${where(f)}: a hello naming ports asked for nothing`)
      continue
    }
    requests++
    if (request.client !== LAB_CONTEXT.client || request.server !== LAB_CONTEXT.server)
      problems.push(`${where(f)}: asked a hole ${request.server} -> ${request.client}`)
    const named = [...new Set(records.map((r) => r.port))]
    if (request.ports.length > PNA_MAX_PORTS || request.ports.some((port, k) => port !== named[k] || port < 1 || port > 65535))
      problems.push(`${where(f)}: ports ${request.ports} for records naming ${named}`)
    if (f.asks && f.how === 'valid' && (f.asks.addr ?? LAB_CONTEXT.client) === LAB_CONTEXT.client) {
      const sorted = (ports: readonly number[]): string => String([...new Set(ports)].sort((x, y) => x - y))
      if (sorted(f.asks.ports) !== sorted(request.ports)) problems.push(`${where(f)}: asked ${request.ports}, the payload asks ${f.asks.ports}`)
    }
    const holes = new Map(request.ports.map((port, k) => [port, 61000 + k]))
    const out = pnaRewritten(p, request, holes)
    if (!out) {
      problems.push(`${where(f)}: no rewrite`)
      continue
    }
    rewritten++
    const changed = [...out.keys()].filter((k) => out[k] !== p[k])
    const allowed = new Set([
      36,
      37,
      ...request.records.flatMap((r) => [request.segment.payload + r.offset, request.segment.payload + r.offset + 1]),
    ])
    if (out.length !== p.length || changed.some((k) => !allowed.has(k)))
      problems.push(`${where(f)}: bytes changed outside the port words: ${changed}`)
    if (tcpCheck(out, 20) !== 0) problems.push(`${where(f)}: the rewritten packet's TCP checksum is wrong`)
    const after = pnaPortRecords(out.subarray(request.segment.payload)) ?? []
    if (records.some((r, k) => after[k]?.port !== (holes.get(r.port) ?? r.port)))
      problems.push(`${where(f)}: a port record does not name its hole's gateway port`)
  }
  t.same(problems, [], `${COUNT} payloads`)
  t.ok(requests > COUNT / 10, `many payloads asked for holes (${requests})`)
  t.ok(rewritten === requests, 'each request was rewritten')
})

for (const protocol of ['pna', 'rtsp'] as const)
  t.test(`${protocol}: mutated and truncated packets: no throw, nothing asked of a packet that is not IPv4/TCP`, async (t) => {
    const problems: string[] = []
    for (let i = 0; i < COUNT && problems.length < 5; i++) {
      const f = fuzzPayload(protocol, SEED, i)
      const rng = seededRng(streamSeed(SEED, `${protocol}-mutate:${i}`))
      const p = packet(f.bytes, 40000, Math.floor(rng() * 4), protocol === 'pna' ? 7070 : 554)
      const mutated = Uint8Array.from(p.subarray(0, Math.floor(rng() * (p.length + 1))))
      for (let k = Math.floor(rng() * 4); k > 0 && mutated.length; k--) mutated[Math.floor(rng() * mutated.length)] = Math.floor(rng() * 256)
      try {
        const request = holeRequest(mutated)
        if (request && (mutated[9] !== 6 || (mutated[0] ?? 0) >> 4 !== 4)) problems.push(`index ${i}: a request from a packet that is not IPv4/TCP`)
        if (request && request.client !== `${mutated[12]}.${mutated[13]}.${mutated[14]}.${mutated[15]}`)
          problems.push(`index ${i}: the client is not the packet's source`)
        if (request) request.rewritten(request.gatewayPorts(rollingPorts(rng)))
      } catch (e) {
        problems.push(`index ${i}: threw ${(e as Error).message}`)
      }
    }
    t.same(problems, [], `${COUNT} mutated packets`)
  })

/** The range a gateway port for a client port written `width` digits wide comes from. */
const rangeOf = (width: number): { first: number; count: number } => (width === 4 ? SHORT_GATEWAY_PORTS : GATEWAY_PORTS)

t.test('RTSP SETUPs inside real packets: holes only for the client, from its own ports, same length, a right checksum', async (t) => {
  let requests = 0
  let pairs = 0
  const problems: string[] = []
  for (let i = 0; i < COUNT && problems.length < 5; i++) {
    const f = fuzzPayload('rtsp', SEED, i)
    const rng = seededRng(streamSeed(SEED, `rtsp-packet:${i}`))
    const p = packet(f.bytes, 1024 + Math.floor(rng() * 60000), Math.floor(rng() * 11), 554)
    let request
    try {
      request = holeRequest(p)
    } catch (e) {
      problems.push(`${where(f)}: threw ${(e as Error).message}`)
      continue
    }
    const texts = rtspClientPorts(f.bytes) ?? []
    const wide = [...new Set(texts.filter((x) => x.width >= 4).map((x) => x.port))]
    if (f.asks && f.how === 'valid' && String(wide) !== String(f.asks.ports))
      problems.push(`${where(f)}: parsed ${wide}, the SETUP asks ${f.asks.ports}`)
    if (!request) {
      if (wide.length) problems.push(`${where(f)}: a SETUP naming ports asked for nothing`)
      continue
    }
    requests++
    if (request.client !== LAB_CONTEXT.client || request.server !== LAB_CONTEXT.server)
      problems.push(`${where(f)}: asked a hole ${request.server} -> ${request.client}`)
    if (String(request.ports) !== String(wide) || request.ports.some((port) => port < 1 || port > 65535))
      problems.push(`${where(f)}: ports ${request.ports} for a SETUP naming ${wide}`)
    const holes = request.gatewayPorts(rollingPorts(rng))
    for (const x of texts) {
      const gateway = holes.get(x.port)
      const range = rangeOf(x.width)
      if (x.width < 4 ? gateway !== undefined : gateway === undefined || gateway < range.first || gateway >= range.first + range.count)
        problems.push(`${where(f)}: client port ${x.port} (${x.width} digits) got gateway port ${gateway}`)
    }
    const [rtp, rtcp] = texts
    if (rtp && rtcp && rtcp.port === rtp.port + 1 && rtp.width === rtcp.width && rtp.width >= 4) {
      pairs++
      const g = holes.get(rtp.port) ?? 1
      if (g % 2 !== 0 || holes.get(rtcp.port) !== g + 1) problems.push(`${where(f)}: the RTP/RTCP pair got ${g}, ${holes.get(rtcp.port)}`)
    }
    const out = request.rewritten(holes)
    if (!out) {
      problems.push(`${where(f)}: no rewrite`)
      continue
    }
    const base = request.segment.payload
    const allowed = new Set([36, 37, ...texts.flatMap((x) => Array.from({ length: x.width }, (_, k) => base + x.offset + k))])
    const changed = [...out.keys()].filter((k) => out[k] !== p[k])
    if (out.length !== p.length || changed.some((k) => !allowed.has(k)))
      problems.push(`${where(f)}: bytes changed outside the port digits: ${changed}`)
    if (tcpCheck(out, 20) !== 0) problems.push(`${where(f)}: the rewritten packet's TCP checksum is wrong`)
    const after = rtspClientPorts(out.subarray(base)) ?? []
    if (texts.some((x, k) => after[k]?.port !== (holes.get(x.port) ?? x.port) || after[k]?.width !== x.width))
      problems.push(`${where(f)}: client_port does not name the holes' gateway ports, as wide`)
  }
  t.same(problems, [], `${COUNT} payloads`)
  t.ok(requests > COUNT / 10, `many payloads asked for holes (${requests})`)
  t.ok(pairs > 0, `RTP/RTCP pairs among them (${pairs})`)
})

t.test('packet log lines of any packet: no throw', async (t) => {
  const problems: string[] = []
  for (let i = 0; i < COUNT && problems.length < 5; i++) {
    const f = fuzzPayload('pna', SEED, i)
    const rng = seededRng(streamSeed(SEED, `log:${i}`))
    const p = packet(f.bytes, 40000, Math.floor(rng() * 11))
    const mutated = Uint8Array.from(p.subarray(0, Math.floor(rng() * (p.length + 1))))
    for (let k = Math.floor(rng() * 6); k > 0 && mutated.length; k--) mutated[Math.floor(rng() * mutated.length)] = Math.floor(rng() * 256)
    for (const group of [LOG_GROUP.ipchains, LOG_GROUP.ipfwadm])
      try {
        logLine(group, 'forward ACCEPT 1', mutated, 'lan0', 'wan0')
      } catch (e) {
        problems.push(`index ${i} group ${group}: threw ${(e as Error).message}`)
      }
  }
  t.same(problems, [], `${COUNT} packets, both formats`)
})

t.test('gateway ports are handed out in turn: one comes round again only after the whole range', async (t) => {
  const pick = rollingPorts(seededRng(streamSeed(SEED, 'rolling')))
  const singles = Array.from({ length: GATEWAY_PORTS.count }, () => pick(GATEWAY_PORTS))
  t.equal(new Set(singles).size, GATEWAY_PORTS.count, 'every port of the range once')
  t.ok(
    singles.every((p) => p >= GATEWAY_PORTS.first && p < GATEWAY_PORTS.first + GATEWAY_PORTS.count),
    'all inside the range',
  )
  t.equal(pick(GATEWAY_PORTS), singles[0], 'then the first again')
  const pairs = Array.from({ length: SHORT_GATEWAY_PORTS.count / 2 + 1 }, () => pick(SHORT_GATEWAY_PORTS, true))
  t.ok(
    pairs.every((p) => p % 2 === 0 && p + 1 < SHORT_GATEWAY_PORTS.first + SHORT_GATEWAY_PORTS.count),
    'pairs start even, both ports inside',
  )
  t.equal(new Set(pairs).size, SHORT_GATEWAY_PORTS.count / 2, 'every pair once before one comes round')
})
