// The seeded generator of control payloads for fuzzing the ALG parsers
// (test/helpers/alg-peers/fuzz-payloads.ts): a payload is a function of
// (protocol, seed, index) alone, every kind comes up, and a valid payload
// asks for exactly what the protocol's own parser (wire.mjs, the one the
// peers speak) reads from it.
import t from 'tap'
import { FUZZ_PROTOCOLS, type FuzzPayload, type FuzzProtocol, LAB_CONTEXT, fuzzPayloads } from './helpers/alg-peers/fuzz-payloads.ts'
import { CCREP_ACCEPT, clientPorts, parseCu, parseDcc, parsePna, parseQuake, parseRtspMessage, parseVdo } from './helpers/alg-peers/wire.mjs'

const COUNT = 400

/** The ports the protocol's parser reads from a valid payload (those it would open holes for), and the address named with them. */
const READS: Readonly<Record<FuzzProtocol, (p: FuzzPayload) => { addr?: string; ports: number[] }>> = {
  irc: (p) => {
    const dcc = parseDcc(p.bytes.toString('latin1'))
    return dcc ? { addr: dcc.addr, ports: [dcc.port] } : { ports: [] }
  },
  cuseeme: () => ({ ports: [] }),
  vdolive: (p) => {
    const port = parseVdo(p.bytes)?.port
    return { ports: port === undefined ? [] : [port] }
  },
  quake: (p) => {
    const q = parseQuake(p.bytes)
    return { ports: q?.command === CCREP_ACCEPT && q.port !== undefined ? [q.port] : [] }
  },
  pna: (p) => ({ ports: (parsePna(p.bytes)?.records ?? []).flatMap((r) => (r.port === undefined ? [] : [r.port])) }),
  rtsp: (p) => ({ ports: clientPorts(parseRtspMessage(p.bytes)?.headers['transport']) ?? [] }),
}

for (const protocol of FUZZ_PROTOCOLS)
  t.test(protocol, async (t) => {
    const payloads = fuzzPayloads(protocol, 2026, COUNT)
    t.same(
      fuzzPayloads(protocol, 2026, COUNT).map((p) => p.bytes),
      payloads.map((p) => p.bytes),
      'the same seed gives the same payloads',
    )
    const other = fuzzPayloads(protocol, 2027, COUNT)
    t.ok(
      other.some((p, i) => !p.bytes.equals(payloads[i]!.bytes)),
      'another seed gives other payloads',
    )
    t.same(new Set(payloads.map((p) => p.how)), new Set(['valid', 'hostile', 'mutated', 'random']), 'every kind comes up')
    t.ok(payloads.filter((p) => p.how === 'mutated').length > COUNT / 5, 'mutations are a good share')
    if (protocol === 'cuseeme' || protocol === 'quake')
      t.ok(
        payloads.every((p) => p.bytes.length <= 65507),
        'every datagram fits in UDP',
      )
    const valid = payloads.filter((p) => p.how === 'valid')
    for (const p of valid) {
      if (protocol === 'cuseeme') {
        const cu = parseCu(p.bytes)
        if (p.direction === 'out') t.equal(cu?.addr, LAB_CONTEXT.client, `#${p.index} ${p.note}: claims the client's address`)
        else
          t.ok(
            cu?.clients?.includes(LAB_CONTEXT.gateway) && cu.destAddr === LAB_CONTEXT.gateway,
            `#${p.index} ${p.note}: addressed to and listing the gateway`,
          )
        continue
      }
      const read = READS[protocol](p)
      t.same([...read.ports].sort(), [...(p.asks?.ports ?? [])].sort(), `#${p.index} ${p.note}: the parser reads the ports it asks for`)
      if (read.addr !== undefined) t.equal(read.addr, LAB_CONTEXT.client, `#${p.index}: from the client's own address`)
    }
    const hostile = payloads.filter((p) => p.how === 'hostile' && p.asks?.addr !== undefined)
    t.ok(
      hostile.every((p) => p.asks?.addr !== LAB_CONTEXT.client),
      'a hostile payload that names an address names another host',
    )
  })
