// VDOLive (TCP 7000 control, UDP data), the exchange ip_masq_vdolive
// fixed: the client names its UDP port in two control packets (tag 6, then
// tag 1) and the server streams UDP to that port at the address the control
// connection came from.
//
//   node vdolive.mjs server [--port 7000] [--count 3] [--lifetime 60]
//       Reads the control packets (framed by their length word), answers
//       each, and after the tag 1 packet sends --count datagrams to the
//       announced port. Logs {"ev":"control","peer","tag","port"} and
//       {"ev":"streamed","to","count"}.
//   node vdolive.mjs client --server H [--port 7000] [--udp-port 0] [--count 3] [--timeout 2]
//       Opens its UDP port, sends tag 6 and tag 1 naming it, counts the
//       datagrams that arrive. Result "streamed" when --count came, else
//       "no-data" (with how many came).
import dgram from 'node:dgram'
import net from 'node:net'
import { boundUdp, command, connectTcp, emit, endAfter, endpoint, finish, listening, queue, sleep } from './peer.mjs'
import { VDO_PORT, parseVdo, vdoInitial, vdoSecondary } from './wire.mjs'

const { role, opts } = command('vdolive.mjs server|client [options] (see the file)', {
  server: { port: VDO_PORT, count: 3, lifetime: 60 },
  client: { server: null, port: VDO_PORT, 'udp-port': 0, count: 3, timeout: 2 },
})

/** The length-framed records of a TCP stream, as a queue. */
const records = (socket) =>
  queue((push, end) => {
    let pending = Buffer.alloc(0)
    socket.on('data', (d) => {
      pending = Buffer.concat([pending, d])
      while (pending.length >= 4 && pending.length >= pending.readUInt32BE(0)) {
        const length = Math.max(pending.readUInt32BE(0), 4)
        push(pending.subarray(0, length))
        pending = pending.subarray(length)
      }
    })
    socket.on('close', end)
    socket.on('error', () => {})
  })

/** The server's answer to a control packet: its tag, echoed. */
const answer = (tag) => {
  const b = Buffer.alloc(8)
  b.writeUInt32BE(8, 0)
  b.writeUInt32BE(tag, 4)
  return b
}

const server = async () => {
  const udp = await boundUdp(dgram, 0)
  await listening(net, opts.port, async (socket) => {
    const peer = socket.remoteAddress.replace(/^::ffff:/, '')
    const from = endpoint(peer, socket.remotePort)
    const incoming = records(socket)
    for (let r; (r = await incoming.next(opts.lifetime));) {
      const control = parseVdo(r)
      emit({ ev: 'control', peer: from, tag: control?.tag ?? r.readUInt32BE(4), port: control?.port ?? null })
      socket.write(answer(control?.tag ?? 0))
      if (control?.tag !== 1) continue
      for (let i = 0; i < opts.count; i++) {
        udp.send(Buffer.from(`vdolive frame ${i}`), control.port, peer)
        await sleep(20)
      }
      emit({ ev: 'streamed', to: endpoint(peer, control.port), count: opts.count })
    }
  })
  emit({ ev: 'ready', port: opts.port })
  endAfter(opts.lifetime)
}

const client = async () => {
  const udp = await boundUdp(dgram, opts['udp-port'])
  const port = udp.address().port
  const frames = queue((push) => udp.on('message', (msg, from) => push({ msg, from })))
  const c = await connectTcp(net, opts.server, opts.port, opts.timeout)
  if (!c.socket) finish(false, { result: 'connect-failed', error: c.error })
  const control = records(c.socket)
  for (const packet of [vdoInitial(port), vdoSecondary(port)]) {
    c.socket.write(packet)
    if (!(await control.next(opts.timeout))) finish(false, { result: 'no-answer', udpPort: port })
  }
  const got = []
  for (let f; got.length < opts.count && (f = await frames.next(opts.timeout));) got.push(endpoint(f.from.address, f.from.port))
  c.socket.end()
  finish(got.length === opts.count, {
    result: got.length === opts.count ? 'streamed' : 'no-data',
    udpPort: port,
    received: got.length,
    from: [...new Set(got)],
  })
}

await { server, client }[role]()
