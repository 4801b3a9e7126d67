// Quake (NetQuake datagrams, UDP 26000), the exchange ip_masq_quake fixed:
// the client asks to connect on 26000, the server accepts naming a NEW
// port, and from then on speaks to the client from that port first.
//
//   node quake.mjs server [--port 26000] [--count 3] [--lifetime 60]
//       Answers CCREQ_CONNECT with CCREP_ACCEPT naming a fresh port, then
//       sends --count unreliable messages from that port to the client and
//       counts the client's acknowledgements. Logs {"ev":"connect","from"},
//       {"ev":"accepted","from","newPort"} and {"ev":"acks","from","count"}.
//       Answers CCREQ_SERVER_INFO with CCREP_SERVER_INFO from --port and
//       logs {"ev":"info","from"}.
//   node quake.mjs info --server H [--port 26000] [--timeout 2]
//       A server browser's query: result "answered" (the host name, map and
//       the client's own port) or "no-answer".
//   node quake.mjs client --server H [--port 26000] [--count 3] [--timeout 2]
//       Sends CCREQ_CONNECT (up to 3 times, as Quake retried), reads the new
//       port, acknowledges every message from it. Result "connected" when
//       --count messages came from the new port, else "no-accept" or
//       "no-data" (with how many came).
import dgram from 'node:dgram'
import { boundUdp, command, emit, endAfter, endpoint, finish, queue, sendUdp, sleep } from './peer.mjs'
import {
  CCREP_ACCEPT,
  CCREP_SERVER_INFO,
  CCREQ_CONNECT,
  CCREQ_SERVER_INFO,
  QUAKE_PORT,
  parseQuake,
  quakeAccept,
  quakeAck,
  quakeConnect,
  quakeServerInfo,
  quakeServerInfoQuery,
  quakeUnreliable,
} from './wire.mjs'

const { role, opts } = command('quake.mjs server|client [options] (see the file)', {
  server: { port: QUAKE_PORT, count: 3, lifetime: 60 },
  info: { server: null, port: QUAKE_PORT, timeout: 2 },
  client: { server: null, port: QUAKE_PORT, count: 3, timeout: 2 },
})

const server = async () => {
  const control = await boundUdp(dgram, opts.port)
  /** client endpoint -> its game socket (one connection per client, as a Quake server kept) */
  const games = new Map()
  control.on('message', async (msg, from) => {
    const q = parseQuake(msg)
    const client = endpoint(from.address, from.port)
    if (q?.command === CCREQ_SERVER_INFO) {
      emit({ ev: 'info', from: client })
      const info = { address: endpoint(control.address().address, opts.port), hostname: 'lab', map: 'e1m1', players: games.size, maxPlayers: 8 }
      return control.send(quakeServerInfo(info), from.port, from.address)
    }
    if (q?.command !== CCREQ_CONNECT) return emit({ ev: 'ignored', from: client, length: msg.length })
    emit({ ev: 'connect', from: client })
    let game = games.get(client)
    if (!game) {
      game = await boundUdp(dgram, 0)
      games.set(client, game)
      let acks = 0
      game.on('message', (m, f) => parseQuake(m)?.ack && emit({ ev: 'acks', from: endpoint(f.address, f.port), count: ++acks }))
    }
    const newPort = game.address().port
    control.send(quakeAccept(newPort), from.port, from.address)
    emit({ ev: 'accepted', from: client, newPort })
    for (let seq = 1; seq <= opts.count; seq++) {
      game.send(quakeUnreliable(seq, Buffer.from(`svc_serverinfo ${seq}`)), from.port, from.address)
      await sleep(20)
    }
  })
  emit({ ev: 'ready', port: opts.port })
  endAfter(opts.lifetime)
}

const info = async () => {
  const socket = await boundUdp(dgram, 0)
  const incoming = queue((push) => socket.on('message', (msg) => push(parseQuake(msg))))
  await sendUdp(socket, quakeServerInfoQuery(), opts.port, opts.server)
  for (let q; (q = await incoming.next(opts.timeout));)
    if (q?.command === CCREP_SERVER_INFO) finish(true, { result: 'answered', port: socket.address().port, hostname: q.hostname, map: q.map })
  finish(false, { result: 'no-answer', port: socket.address().port })
}

const client = async () => {
  const socket = await boundUdp(dgram, 0)
  const incoming = queue((push) => socket.on('message', (msg, from) => push({ q: parseQuake(msg), from })))
  let newPort
  for (let attempt = 0; attempt < 3 && !newPort; attempt++) {
    socket.send(quakeConnect(), opts.port, opts.server)
    const until = Date.now() + (opts.timeout * 1000) / 3
    for (let d; !newPort && (d = await incoming.next(Math.max(until - Date.now(), 1) / 1000));)
      if (d.q?.command === CCREP_ACCEPT && d.from.port === opts.port) newPort = d.q.port
  }
  if (!newPort) finish(false, { result: 'no-accept' })
  emit({ ev: 'accepted', newPort })
  const from = []
  const seqs = new Set()
  for (let d; seqs.size < opts.count && (d = await incoming.next(opts.timeout));) {
    if (!d.q?.unreliable) continue
    from.push(endpoint(d.from.address, d.from.port))
    if (d.from.port !== newPort) continue
    seqs.add(d.q.seq)
    await sendUdp(socket, quakeAck(d.q.seq), newPort, opts.server)
  }
  finish(seqs.size === opts.count, {
    result: seqs.size === opts.count ? 'connected' : 'no-data',
    port: socket.address().port,
    newPort,
    received: seqs.size,
    from: [...new Set(from)],
  })
}

await { server, info, client }[role]()
