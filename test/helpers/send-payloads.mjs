// Sends control payloads, one TCP connection each, as a client would:
//   node send-payloads.mjs HOST PORT < lines
// Each stdin line is "SOURCE-ADDRESS HEX". Prints {"sent":N,"failed":M} at the end.
import net from 'node:net'
import { createInterface } from 'node:readline'

const [host, port] = process.argv.slice(2)
let sent = 0
let failed = 0
const once = (src, bytes) =>
  new Promise((resolve) => {
    const s = net.connect({ host, port: Number(port), localAddress: src })
    s.setNoDelay(true)
    const done = (ok) => {
      if (ok) sent++
      else failed++
      s.destroy()
      resolve()
    }
    s.setTimeout(2000, () => done(false))
    s.on('error', () => done(false))
    s.on('connect', () => s.write(bytes, () => setTimeout(() => done(true), 30)))
  })
for await (const line of createInterface({ input: process.stdin })) {
  const [src, hex] = line.split(' ')
  if (src) await once(src, Buffer.from(hex ?? '', 'hex'))
}
process.stdout.write(`${JSON.stringify({ sent, failed })}\n`)
