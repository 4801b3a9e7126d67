// What each protocol's exchange (run.ts EXCHANGES) must show in the three
// places it runs: directly connected, through a gateway that only
// masquerades (the failure each ip_masq_* module existed to fix), and
// through a gateway whose script loads the module.
import type { Test } from 'tap'
import { type Exchange, LAN_HOST, type Line, OUTSIDE_PARTICIPANTS, type Peer, WAN_HOST } from './run.ts'

export const GATEWAY = '203.0.113.1'

export type Check = (t: Test, x: Exchange) => void

const all = (lines: Line[], ev: string, pred: (l: Line) => boolean = () => true): Line[] => lines.filter((l) => l.ev === ev && pred(l))
const host = (endpoint: unknown): string => String(endpoint).split(':')[0] ?? ''
const field = (l: Line | undefined, name: string): unknown => l?.[name]
const ok = (t: Test, x: Exchange, what: string): boolean =>
  t.equal(x.client.status, 0, `${what}: the client's exchange worked`, { result: x.client.result, stderr: x.client.stderr })
const failed = (t: Test, x: Exchange, result: string, what: string): void => {
  t.equal(x.client.status, 1, `${what}: the client reports a protocol failure (exit 1)`, { result: x.client.result, stderr: x.client.stderr })
  t.equal(x.client.result.result, result, `${what}: ${result}`)
}

/** IRC: what the server relayed (the DCC offer as the outside saw it). */
const dcc = (x: Exchange): { addr?: string; port?: number } => (field(all(x.server, 'privmsg')[0], 'dcc') as { addr?: string; port?: number }) ?? {}

/** CU-SeeMe: the reflector's log of alice's packets. */
const alicePackets = (x: Exchange): Line[] => all(x.server, 'packet', (l) => l['name'] === 'alice')

/** Every control packet's port as the VDOLive server read it. */
const vdoPorts = (x: Exchange): unknown[] => all(x.server, 'control').map((l) => l['port'])

/** The PNA server's reading of the hello: record ids in order, and the port of each port record. */
const pnaHello = (x: Exchange): { ids: unknown[]; ports: Record<string, unknown> } => {
  const records = (field(all(x.server, 'hello')[0], 'records') as { id: number; port?: number }[] | undefined) ?? []
  return { ids: records.map((r) => r.id), ports: Object.fromEntries(records.filter((r) => r.port).map((r) => [String(r.id), r.port])) }
}

/** The records of the outside participants, as every CU-SeeMe client sees them. */
const outside = OUTSIDE_PARTICIPANTS.map(() => WAN_HOST)

const setup = (x: Exchange): Line | undefined => all(x.server, 'setup')[0]

export const DIRECT: Readonly<Record<Peer, Check>> = {
  irc: (t, x) => {
    ok(t, x, 'DCC SEND')
    t.equal(x.client.result.result, 'sent', 'the sender sent the file and saw it acknowledged')
    t.equal(x.receiver?.status, 0, 'the receiver got the whole file', { receiver: x.receiver })
    t.equal(dcc(x).addr, LAN_HOST, "the offer carries the sender's own address")
    t.equal(host(x.client.result['peer']), WAN_HOST, 'the sender saw the receiver connect from its own address')
  },
  cuseeme: (t, x) => {
    ok(t, x, 'CU-SeeMe')
    t.ok(
      alicePackets(x).length === 3 && alicePackets(x).every((l) => l['addr'] === LAN_HOST && l['claimMatchesSource'] === true),
      'the header address is the source address',
      {
        packets: alicePackets(x),
      },
    )
    t.same(x.client.result['clients'], [...outside, LAN_HOST], 'the Open Continue records list every participant, alice fourth')
    t.equal(x.client.result['ownRecord'], 3, 'alice found her own record (the fourth)')
  },
  vdolive: (t, x) => {
    ok(t, x, 'VDOLive')
    t.same(
      vdoPorts(x),
      [x.client.result['udpPort'], x.client.result['udpPort']],
      "both control packets (tag 6 and tag 1) carried the client's UDP port",
    )
    t.equal(x.client.result['received'], 3, '3/3 datagrams came back')
  },
  quake: (t, x) => {
    ok(t, x, 'Quake')
    t.not(x.client.result['newPort'], 26000, 'the server accepted from a new port')
    t.equal(x.client.result['received'], 3, '3/3 messages came from the new port')
    t.ok(all(x.server, 'acks', (l) => l['count'] === 3).length, 'the server got the 3 acknowledgements on the new port')
  },
  pna: (t, x) => {
    ok(t, x, 'PNA')
    const hello = pnaHello(x)
    t.same(hello.ids, [3, 7, 1], 'the server read every record, the UDP port record last')
    t.same(hello.ports, x.client.result['udpPorts'], "the port records name the client's ports")
    t.same(x.client.result['received'], { 1: 3, 7: 3 }, '3/3 datagrams to each port')
  },
  rtsp: (t, x) => {
    ok(t, x, 'RTSP')
    t.same(field(setup(x), 'clientPorts'), x.client.result['clientPorts'], "SETUP carried the client's ports")
    t.same([x.client.result['rtp'], x.client.result['rtcp']], [3, 1], '3 RTP packets and the RTCP report came back')
  },
}

/** Through `ipchains -A forward -s 192.168.1.0/24 -j MASQ` alone, as the issue describes it failing. */
export const MASQ_ONLY: Readonly<Record<Peer, Check>> = {
  irc: (t, x) => {
    t.equal(dcc(x).addr, LAN_HOST, 'the offer reached the outside still carrying 192.168.1.10')
    t.equal(x.receiver?.result.result, 'connect-failed', 'the receiver could not connect back', { receiver: x.receiver?.result })
    failed(t, x, 'no-connection', 'DCC SEND')
  },
  cuseeme: (t, x) => {
    const packets = alicePackets(x)
    t.ok(
      packets.length > 0 && packets.every((l) => l['addr'] === LAN_HOST && host(l['from']) === GATEWAY),
      'the reflector saw 192.168.1.10 in the header of packets from the gateway',
      {
        packets,
      },
    )
    failed(t, x, 'not-addressed', 'CU-SeeMe')
    t.same(x.client.result['destAddrs'], [GATEWAY], "the answers' dest_addr is the gateway's, not alice's")
  },
  vdolive: (t, x) => {
    t.ok(all(x.server, 'streamed', (l) => host(l['to']) === GATEWAY).length, 'the server streamed to the gateway')
    failed(t, x, 'no-data', 'VDOLive')
    t.equal(x.client.result['received'], 0, 'no datagram came back')
  },
  quake: (t, x) => {
    failed(t, x, 'no-data', 'Quake')
    t.ok(Number(x.client.result['newPort']) > 0, 'the accept (from 26000) came back')
    t.equal(x.client.result['received'], 0, 'nothing came from the new port')
  },
  pna: (t, x) => {
    t.equal(host(field(all(x.server, 'hello')[0], 'peer')), GATEWAY, 'the server got the hello from the gateway')
    failed(t, x, 'no-data', 'PNA')
    t.same(x.client.result['received'], { 1: 0, 7: 0 }, 'no datagram came back to either port')
  },
  rtsp: (t, x) => {
    t.equal(host(field(setup(x), 'peer')), GATEWAY, 'the server got SETUP from the gateway')
    failed(t, x, 'no-data', 'RTSP')
    t.same([x.client.result['rtp'], x.client.result['rtcp']], [0, 0], 'no RTP or RTCP came back')
  },
}

/** The peers whose module renders in nftables alone (PNA and RTSP, ip_masq_raudio, need the userspace runtime). */
export type ModulePeer = Exclude<Peer, 'pna' | 'rtsp'>

/** Through a gateway whose script loads the module (`/sbin/modprobe ip_masq_irc`, ...) besides masquerading. */
export const THROUGH_MODULE: Readonly<Record<ModulePeer, Check>> = {
  irc: (t, x) => {
    t.equal(dcc(x).addr, GATEWAY, "the offer reached the outside naming the gateway's address")
    t.equal(x.receiver?.status, 0, 'the receiver connected back through the gateway and got the whole file', { receiver: x.receiver })
    ok(t, x, 'DCC SEND')
    t.equal(x.client.result.result, 'sent', 'the sender sent the file and saw it acknowledged')
    t.equal(host(x.client.result['peer']), WAN_HOST, 'the connection came in from the receiver')
  },
  cuseeme: (t, x) => {
    const packets = alicePackets(x)
    t.ok(
      packets.length === 3 && packets.every((l) => l['addr'] === GATEWAY && l['claimMatchesSource'] === true),
      "the reflector saw the gateway's address in the header",
      {
        packets,
      },
    )
    ok(t, x, 'CU-SeeMe')
    t.same(x.client.result['destAddrs'], [LAN_HOST], "the answers' dest_addr became alice's address")
    t.same(x.client.result['clients'], [...outside, LAN_HOST], "alice's own record (the fourth) became her address, the others stayed")
  },
  vdolive: (t, x) => {
    t.ok(all(x.server, 'streamed', (l) => host(l['to']) === GATEWAY).length, 'the server streamed to the gateway')
    ok(t, x, 'VDOLive')
    t.equal(x.client.result['received'], 3, '3/3 datagrams came back')
  },
  quake: (t, x) => {
    ok(t, x, 'Quake')
    t.not(x.client.result['newPort'], 26000, 'the server accepted from a new port')
    t.equal(x.client.result['received'], 3, '3/3 messages came from the new port')
    t.ok(all(x.server, 'acks', (l) => l['count'] === 3).length, "the client's 3 acknowledgements reached the new port")
  },
}
