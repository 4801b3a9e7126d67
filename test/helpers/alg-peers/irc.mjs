// IRC with a DCC SEND, the exchange ip_masq_irc (TCP 6667) made work
// through masquerading: the sender offers a file in a CTCP with its own
// address and a port it listens on; the receiver, told by the server,
// connects back to that address and port and gets the bytes.
//
//   node irc.mjs server [--port 6667] [--lifetime 60]
//       A small IRC server: NICK/USER registration (001), PING, PRIVMSG
//       relayed to the nick with the sender's address as the server saw it.
//       Logs {"ev":"client","nick","peer"} and {"ev":"privmsg","from","peer","to","text","dcc"}.
//   node irc.mjs fetch --server H [--port 6667] [--nick bob] [--timeout 5]
//       Registers, prints {"ev":"registered"}, waits for a DCC SEND, connects
//       to the offered address and port and receives the file, acknowledging
//       each block (4-byte count of the bytes so far). Result "received", or
//       "no-offer" / "connect-failed" / "short".
//   node irc.mjs offer --server H [--port 6667] [--nick alice] [--to bob] [--size 65536] [--dcc-port 0] [--timeout 3]
//       Registers, listens on --dcc-port, offers the file to --to with its
//       own address (the local address of its IRC connection), sends it to
//       the first connection. Result "sent", or "no-connection" / "no-such-nick".
import net from 'node:net'
import { command, connectTcp, emit, endAfter, endpoint, finish, firstOf, listening, queue } from './peer.mjs'
import { dccFile, dccOffer, parseDcc, parseIrcLine } from './wire.mjs'

const SERVER_NAME = 'irc.lab'

const { role, opts } = command('irc.mjs server|fetch|offer [options] (see the file)', {
  server: { port: 6667, lifetime: 60 },
  fetch: { server: null, port: 6667, nick: 'bob', timeout: 5 },
  offer: { server: null, port: 6667, nick: 'alice', to: 'bob', size: 65536, 'dcc-port': 0, timeout: 3 },
})

/** Calls onLine with each CR LF (or LF) terminated line of the socket. */
const lines = (socket, onLine) => {
  let pending = ''
  socket.setEncoding('latin1')
  socket.on('data', (d) => {
    pending += d
    let nl
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).replace(/\r$/, '')
      pending = pending.slice(nl + 1)
      if (line) onLine(line)
    }
  })
}

const send = (socket, line) => socket.write(`${line}\r\n`, 'latin1')

// ---------------------------------------------------------------------------

const server = async () => {
  const nicks = new Map()
  await listening(net, opts.port, (socket) => {
    const peer = endpoint(socket.remoteAddress.replace(/^::ffff:/, ''), socket.remotePort)
    const me = { nick: '', user: '' }
    socket.on('error', () => {})
    socket.on('close', () => nicks.get(me.nick) === socket && nicks.delete(me.nick))
    lines(socket, (line) => {
      const { command: cmd, params } = parseIrcLine(line)
      if (cmd === 'NICK') me.nick = params[0] ?? ''
      else if (cmd === 'USER') me.user = params[0] ?? ''
      else if (cmd === 'PING') send(socket, `:${SERVER_NAME} PONG ${SERVER_NAME} :${params[0] ?? ''}`)
      else if (cmd === 'QUIT') socket.end()
      else if (cmd === 'PRIVMSG') {
        const [to = '', text = ''] = params
        emit({ ev: 'privmsg', from: me.nick, peer, to, text, dcc: parseDcc(text) ?? null })
        const target = nicks.get(to)
        if (target) send(target, `:${me.nick}!${me.user}@${socket.remoteAddress.replace(/^::ffff:/, '')} PRIVMSG ${to} :${text}`)
        else send(socket, `:${SERVER_NAME} 401 ${me.nick} ${to} :No such nick/channel`)
      }
      if ((cmd === 'NICK' || cmd === 'USER') && me.nick && me.user && !nicks.has(me.nick)) {
        nicks.set(me.nick, socket)
        emit({ ev: 'client', nick: me.nick, peer })
        send(socket, `:${SERVER_NAME} 001 ${me.nick} :Welcome to the lab IRC network ${me.nick}`)
      }
    })
  })
  emit({ ev: 'ready', port: opts.port })
  endAfter(opts.lifetime)
}

/** Connects and registers: the socket and the queue of its parsed lines; finishes when that fails. */
const register = async (nick) => {
  const c = await connectTcp(net, opts.server, opts.port, opts.timeout)
  if (!c.socket) finish(false, { result: 'irc-connect-failed', error: c.error })
  const { socket } = c
  const incoming = queue((push, end) => {
    lines(socket, (line) => push(parseIrcLine(line)))
    socket.on('close', end)
  })
  send(socket, `NICK ${nick}`)
  send(socket, `USER ${nick} 0 * :${nick} in the lab`)
  for (;;) {
    const msg = await incoming.next(opts.timeout)
    if (!msg) finish(false, { result: 'not-registered' })
    if (msg.command === '001') return { socket, incoming }
  }
}

/** Resolves once the socket closed, or after `seconds`. */
const closed = (socket, seconds) => firstOf(socket, ['close'], seconds)

const fetch = async () => {
  const irc = await register(opts.nick)
  emit({ ev: 'registered', nick: opts.nick })
  let offer
  while (!offer) {
    const msg = await irc.incoming.next(opts.timeout)
    if (!msg) finish(false, { result: 'no-offer' })
    if (msg.command === 'PRIVMSG') offer = parseDcc(msg.params[1] ?? '')
  }
  emit({ ev: 'offer', ...offer })
  const c = await connectTcp(net, offer.addr, offer.port, opts.timeout)
  if (!c.socket) finish(false, { result: 'connect-failed', offer, error: c.error })
  const data = c.socket
  const from = endpoint(data.remoteAddress, data.remotePort)
  const chunks = []
  let got = 0
  data.on('data', (d) => {
    chunks.push(d)
    got += d.length
    const ack = Buffer.alloc(4)
    ack.writeUInt32BE(got >>> 0, 0)
    data.write(ack)
    if (got >= offer.size) data.end()
  })
  data.on('error', () => {})
  await closed(data, opts.timeout)
  const file = Buffer.concat(chunks)
  const intact = file.equals(dccFile(offer.size))
  irc.socket.end('QUIT :done\r\n')
  finish(intact, { result: intact ? 'received' : 'short', offer, from, bytes: file.length })
}

const offer = async () => {
  const irc = await register(opts.nick)
  const own = irc.socket.localAddress
  const file = dccFile(opts.size)
  let accept
  const connected = new Promise((resolve) => (accept = resolve))
  const listener = await listening(net, opts['dcc-port'], (socket) => {
    listener.close()
    accept(socket)
  })
  const port = listener.address().port
  send(irc.socket, `PRIVMSG ${opts.to} :${dccOffer('SEND', 'lab.bin', own, port, opts.size)}`)
  emit({ ev: 'offered', addr: own, port, size: opts.size })
  const refused = (async () => {
    for (let msg; (msg = await irc.incoming.next(opts.timeout + 1));) if (msg.command === '401') return 'no-such-nick'
    return new Promise(() => {})
  })()
  const timeout = new Promise((resolve) => setTimeout(() => resolve('no-connection'), opts.timeout * 1000))
  const first = await Promise.race([connected, refused, timeout])
  if (typeof first === 'string') finish(false, { result: first, offered: { addr: own, port } })
  const data = first
  const peer = endpoint(data.remoteAddress.replace(/^::ffff:/, ''), data.remotePort)
  // Acknowledgements: 4-byte counts, which TCP may split or join.
  let acks = Buffer.alloc(0)
  let acked = 0
  data.on('data', (d) => {
    acks = Buffer.concat([acks, d])
    const whole = acks.length - (acks.length % 4)
    if (whole) acked = acks.readUInt32BE(whole - 4)
    acks = acks.subarray(whole)
    if (acked >= file.length) data.end()
  })
  data.on('error', () => {})
  data.write(file)
  await closed(data, opts.timeout)
  irc.socket.end('QUIT :done\r\n')
  finish(acked === file.length, { result: acked === file.length ? 'sent' : 'unacknowledged', offered: { addr: own, port }, peer, acked })
}

await { server, fetch, offer }[role]()
