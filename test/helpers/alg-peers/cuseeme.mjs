// CU-SeeMe (UDP 7648), the exchange ip_masq_cuseeme fixed: each packet's
// header names the sender's own address (addr) and the receiver's
// (dest_addr); a reflector's Open Continue packets list the participants
// by the addresses their headers claimed.
//
//   node cuseeme.mjs reflector [--port 7648] [--addr A] [--lifetime 60]
//       Answers every packet (to its UDP source) with an Open Continue
//       whose dest_addr is that source's address and whose client_info
//       records list each participant's claimed address, in the order they
//       first spoke. Logs {"ev":"packet","from","addr","port","dataType","name","claimMatchesSource"}.
//   node cuseeme.mjs client --reflector H [--port 7648] [--name alice] [--count 3] [--sport 0] [--timeout 2]
//       Sends --count Open Continue packets claiming its own address and
//       waits for each answer. Result "addressed" when every answer was
//       addressed to its own address and listed it; else "no-reply",
//       "not-addressed" (dest_addr is not its address) or "not-listed".
import dgram from 'node:dgram'
import { boundUdp, command, emit, endAfter, endpoint, finish, queue } from './peer.mjs'
import { CU_PORT, cuOpenContinue, parseCu } from './wire.mjs'

const { role, opts } = command('cuseeme.mjs reflector|client [options] (see the file)', {
  reflector: { port: CU_PORT, addr: '', lifetime: 60 },
  client: { reflector: null, port: CU_PORT, name: 'alice', count: 3, sport: 0, timeout: 2 },
})

const reflector = async () => {
  const socket = await boundUdp(dgram, opts.port, opts.addr || '0.0.0.0')
  const own = opts.addr || '0.0.0.0'
  /** endpoint -> the address its header claimed */
  const participants = new Map()
  let seq = 0
  socket.on('message', (msg, from) => {
    const cu = parseCu(msg)
    const source = endpoint(from.address, from.port)
    if (!cu) return emit({ ev: 'short', from: source, length: msg.length })
    participants.set(source, cu.addr)
    emit({
      ev: 'packet',
      from: source,
      addr: cu.addr,
      port: cu.port,
      dataType: cu.dataType,
      name: cu.userName ?? null,
      claimMatchesSource: cu.addr === from.address,
    })
    const answer = cuOpenContinue(
      { destPort: from.port, destAddr: from.address, port: opts.port, addr: own, seq: ++seq },
      { seqNo: seq, userName: 'reflector', clients: [...participants.values()].map((addr) => ({ addr })) },
    )
    socket.send(answer, from.port, from.address)
  })
  emit({ ev: 'ready', port: opts.port })
  endAfter(opts.lifetime)
}

const client = async () => {
  const socket = await boundUdp(dgram, opts.sport)
  await new Promise((resolve) => socket.connect(opts.port, opts.reflector, resolve))
  const { address: own, port: ownPort } = socket.address()
  const answers = queue((push) => socket.on('message', (msg) => push(msg)))
  const seen = []
  for (let i = 1; i <= opts.count; i++) {
    socket.send(
      cuOpenContinue({ destPort: opts.port, destAddr: opts.reflector, port: ownPort, addr: own, seq: i }, { seqNo: i, userName: opts.name }),
    )
    const msg = await answers.next(opts.timeout)
    if (!msg) break
    const cu = parseCu(msg)
    if (cu) seen.push(cu)
    emit({ ev: 'answer', destAddr: cu?.destAddr ?? null, clients: cu?.clients ?? null })
  }
  const last = seen.at(-1)
  const result =
    seen.length < opts.count
      ? 'no-reply'
      : !seen.every((cu) => cu.destAddr === own)
        ? 'not-addressed'
        : !seen.every((cu) => cu.clients?.includes(own))
          ? 'not-listed'
          : 'addressed'
  finish(result === 'addressed', {
    result,
    own,
    answers: seen.length,
    destAddrs: [...new Set(seen.map((cu) => cu.destAddr))],
    clients: last?.clients ?? [],
    ownRecord: last?.clients?.indexOf(own) ?? -1,
  })
}

await { reflector, client }[role]()
