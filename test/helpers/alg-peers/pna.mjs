// RealAudio PNA (TCP 7070 control, UDP audio), the exchange ip_masq_raudio
// fixed: the client's hello carries records, among them id 1 (its UDP
// audio port) and id 7 (its Robust-UDP port), in any order; the server
// sends UDP to those ports at the address the control connection came from.
//
//   node pna.mjs server [--port 7070] [--count 3] [--lifetime 60]
//       Reads each hello (every record, up to id 0), answers "PNA" with the
//       version, sends --count datagrams to the port of each port record.
//       Logs {"ev":"hello","peer","version","records":[{id,length,port?}]}
//       and {"ev":"streamed","to","record","count"}.
//   node pna.mjs client --server H [--port 7070] [--order 3,7,1] [--count 3] [--timeout 2]
//       Opens a UDP port for each port record (ids 1 and 7) and sends a
//       hello with the records in --order (other ids carry an opaque text
//       value). Result "streamed" when --count datagrams came to every
//       port, else "no-data" (received per record id).
import dgram from 'node:dgram'
import net from 'node:net'
import { boundUdp, command, connectTcp, emit, endAfter, endpoint, finish, listening, queue, sleep } from './peer.mjs'
import { PNA_PORT, PNA_ROBUST_PORT_RECORD, PNA_UDP_PORT_RECORD, parsePna, pnaHello, portValue } from './wire.mjs'

const PNA_VERSION = 10

const { role, opts } = command('pna.mjs server|client [options] (see the file)', {
  server: { port: PNA_PORT, count: 3, lifetime: 60 },
  client: { server: null, port: PNA_PORT, order: '3,7,1', count: 3, timeout: 2 },
})

const isPortRecord = (id) => id === PNA_UDP_PORT_RECORD || id === PNA_ROBUST_PORT_RECORD

const server = async () => {
  const udp = await boundUdp(dgram, 0)
  await listening(net, opts.port, (socket) => {
    const peer = socket.remoteAddress.replace(/^::ffff:/, '')
    let pending = Buffer.alloc(0)
    socket.on('error', () => {})
    socket.on('data', async (d) => {
      pending = Buffer.concat([pending, d])
      const hello = parsePna(pending)
      if (!hello?.complete) return
      pending = pending.subarray(hello.length)
      emit({ ev: 'hello', peer: endpoint(peer, socket.remotePort), version: hello.version, records: hello.records })
      socket.write(pnaHello(hello.version, []))
      for (const r of hello.records.filter((r) => isPortRecord(r.id) && r.port)) {
        for (let i = 0; i < opts.count; i++) {
          udp.send(Buffer.from(`pna record ${r.id} packet ${i}`), r.port, peer)
          await sleep(20)
        }
        emit({ ev: 'streamed', to: endpoint(peer, r.port), record: r.id, count: opts.count })
      }
    })
  })
  emit({ ev: 'ready', port: opts.port })
  endAfter(opts.lifetime)
}

const client = async () => {
  const order = opts.order.split(',').map(Number)
  /** record id -> its UDP socket and the datagrams that came to it */
  const ports = new Map()
  for (const id of order.filter(isPortRecord)) {
    const socket = await boundUdp(dgram, 0)
    ports.set(id, { socket, got: queue((push) => socket.on('message', (msg, from) => push(endpoint(from.address, from.port)))) })
  }
  const records = order.map((id) => ({
    id,
    value: isPortRecord(id) ? portValue(ports.get(id).socket.address().port) : Buffer.from(`opaque record ${id}`),
  }))
  const c = await connectTcp(net, opts.server, opts.port, opts.timeout)
  if (!c.socket) finish(false, { result: 'connect-failed', error: c.error })
  c.socket.on('error', () => {})
  c.socket.write(pnaHello(PNA_VERSION, records))
  const received = {}
  const from = new Set()
  for (const [id, { got }] of ports) {
    received[id] = 0
    for (let f; received[id] < opts.count && (f = await got.next(opts.timeout)); received[id]++) from.add(f)
  }
  c.socket.end()
  const ok = ports.size > 0 && Object.values(received).every((n) => n === opts.count)
  const udpPorts = Object.fromEntries([...ports].map(([id, p]) => [id, p.socket.address().port]))
  finish(ok, { result: ok ? 'streamed' : 'no-data', udpPorts, received, from: [...from] })
}

await { server, client }[role]()
