// RTSP (TCP 554 control, RTP/RTCP over UDP), the exchange 2.2's
// ip_masq_raudio fixed for RealAudio G2: OPTIONS first, DESCRIBE, then
// SETUP whose Transport header names the client's ports
// (client_port=N-M;), PLAY, and the server sends RTP to N and RTCP to M at
// the address the control connection came from.
//
//   node rtsp.mjs server [--port 554] [--count 3] [--lifetime 60]
//       Answers OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN; after PLAY sends
//       --count RTP packets to N and one RTCP sender report to M. Logs
//       {"ev":"request","peer","method"}, {"ev":"setup","peer","transport","clientPorts"}
//       and {"ev":"streamed","rtp","rtcp","count"}.
//   node rtsp.mjs client --server H [--port 554] [--count 3] [--timeout 2] [--base 20000]
//       Opens two consecutive UDP ports N, N+1 (N even, from --base: 20000
//       picks in 20000-39999, 6970 in 6970-7169 as RealPlayer did) and plays one stream.
//       Result "streamed" when --count RTP packets came to N and the RTCP
//       report to N+1, else "no-data" (with how many came).
import dgram from 'node:dgram'
import net from 'node:net'
import { boundUdp, command, connectTcp, emit, endAfter, endpoint, finish, listening, queue, sleep } from './peer.mjs'
import { RTSP_PORT, clientPorts, parseRtspMessage, rtpPacket, rtspMessage } from './wire.mjs'

const URL_PATH = '/lab.rm'
const SESSION = '4711'
const SSRC = 0x1a2b3c4d

const { role, opts } = command('rtsp.mjs server|client [options] (see the file)', {
  server: { port: RTSP_PORT, count: 3, lifetime: 60 },
  client: { server: null, port: RTSP_PORT, count: 3, timeout: 2, base: 20000 },
})

/** The RTSP messages of a TCP stream, as a queue. */
const messages = (socket) =>
  queue((push, end) => {
    let pending = Buffer.alloc(0)
    socket.on('data', (d) => {
      pending = Buffer.concat([pending, d])
      for (let m; (m = parseRtspMessage(pending)); pending = pending.subarray(m.length)) push(m)
    })
    socket.on('close', end)
    socket.on('error', () => {})
  })

/** An RTCP sender report with no report blocks (28 bytes). */
const rtcpSenderReport = () => {
  const b = Buffer.alloc(28)
  b[0] = 0x80
  b[1] = 200
  b.writeUInt16BE(6, 2)
  b.writeUInt32BE(SSRC, 4)
  return b
}

const server = async () => {
  await listening(net, opts.port, async (socket) => {
    const peer = socket.remoteAddress.replace(/^::ffff:/, '')
    const from = endpoint(peer, socket.remotePort)
    const requests = messages(socket)
    let ports
    let rtp
    let rtcp
    for (let m; (m = await requests.next(opts.lifetime));) {
      const [method = ''] = m.startLine.split(' ')
      const cseq = m.headers['cseq'] ?? '0'
      emit({ ev: 'request', peer: from, method })
      const ok = (headers = {}, body = '') => socket.write(rtspMessage('RTSP/1.0 200 OK', { CSeq: cseq, ...headers }, body), 'latin1')
      if (method === 'OPTIONS') ok({ Public: 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN' })
      else if (method === 'DESCRIBE') {
        const sdp = [
          'v=0',
          `o=- 1 1 IN IP4 ${socket.localAddress}`,
          's=lab',
          'c=IN IP4 0.0.0.0',
          'm=audio 0 RTP/AVP 96',
          'a=rtpmap:96 L16/8000',
          '',
        ].join('\r\n')
        ok({ 'Content-Type': 'application/sdp' }, sdp)
      } else if (method === 'SETUP') {
        const transport = m.headers['transport'] ?? ''
        ports = clientPorts(transport)
        emit({ ev: 'setup', peer: from, transport, clientPorts: ports ?? null })
        if (!ports) {
          socket.write(rtspMessage('RTSP/1.0 461 Unsupported Transport', { CSeq: cseq }), 'latin1')
          continue
        }
        rtp = await boundUdp(dgram, 0)
        rtcp = await boundUdp(dgram, 0)
        const serverPorts = `${rtp.address().port}-${rtcp.address().port}`
        ok({ Transport: `RTP/AVP;unicast;client_port=${ports.join('-')};server_port=${serverPorts}`, Session: SESSION })
      } else if (method === 'PLAY' && rtp) {
        ok({ Session: SESSION })
        const [rtpPort, rtcpPort] = ports
        for (let seq = 1; seq <= opts.count; seq++) {
          rtp.send(rtpPacket(seq, SSRC, Buffer.alloc(160)), rtpPort, peer)
          await sleep(20)
        }
        if (rtcpPort) rtcp.send(rtcpSenderReport(), rtcpPort, peer)
        emit({ ev: 'streamed', rtp: endpoint(peer, rtpPort), rtcp: rtcpPort ? endpoint(peer, rtcpPort) : null, count: opts.count })
      } else if (method === 'TEARDOWN') {
        ok({ Session: SESSION })
        socket.end()
      } else socket.write(rtspMessage('RTSP/1.0 455 Method Not Valid in This State', { CSeq: cseq }), 'latin1')
    }
  })
  emit({ ev: 'ready', port: opts.port })
  endAfter(opts.lifetime)
}

/** Two UDP sockets on consecutive ports N (even, as RTP wants) and N+1, from --base on. */
const portPair = async () => {
  const pairs = opts.base >= 20000 ? 10000 : 100
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = opts.base + 2 * Math.floor(Math.random() * pairs)
    try {
      const a = await boundUdp(dgram, base)
      try {
        return [a, await boundUdp(dgram, base + 1)]
      } catch {
        a.close()
      }
    } catch {
      // taken: another pair
    }
  }
  throw new Error('no free pair of UDP ports')
}

const client = async () => {
  const [rtp, rtcp] = await portPair()
  const arrived = (socket) => queue((push) => socket.on('message', (msg, from) => push(endpoint(from.address, from.port))))
  const rtpGot = arrived(rtp)
  const rtcpGot = arrived(rtcp)
  const c = await connectTcp(net, opts.server, opts.port, opts.timeout)
  if (!c.socket) finish(false, { result: 'connect-failed', error: c.error })
  const replies = messages(c.socket)
  const url = `rtsp://${opts.server}:${opts.port}${URL_PATH}`
  let cseq = 0
  const request = async (method, target, headers = {}) => {
    c.socket.write(rtspMessage(`${method} ${target} RTSP/1.0`, { CSeq: String(++cseq), 'User-Agent': 'lab-rtsp', ...headers }), 'latin1')
    const reply = await replies.next(opts.timeout)
    if (!reply?.startLine.startsWith('RTSP/1.0 200')) finish(false, { result: 'refused', method, reply: reply?.startLine ?? null })
    return reply
  }
  await request('OPTIONS', '*')
  await request('DESCRIBE', url, { Accept: 'application/sdp' })
  const ports = [rtp.address().port, rtcp.address().port]
  const setup = await request('SETUP', `${url}/track1`, { Transport: `RTP/AVP;unicast;client_port=${ports.join('-')};mode=play` })
  await request('PLAY', url, { Session: SESSION })
  const from = new Set()
  let rtpCount = 0
  for (let f; rtpCount < opts.count && (f = await rtpGot.next(opts.timeout)); rtpCount++) from.add(f)
  const rtcpFrom = await rtcpGot.next(rtpCount ? opts.timeout : 0.1)
  if (rtcpFrom) from.add(rtcpFrom)
  await request('TEARDOWN', url, { Session: SESSION })
  c.socket.end()
  const ok = rtpCount === opts.count && rtcpFrom !== undefined
  finish(ok, {
    result: ok ? 'streamed' : 'no-data',
    clientPorts: ports,
    serverTransport: setup.headers['transport'],
    rtp: rtpCount,
    rtcp: rtcpFrom ? 1 : 0,
    from: [...from],
  })
}

await { server, client }[role]()
