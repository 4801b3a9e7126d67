// What every peer in this folder shares: its command line, its output and
// its exit status.
//
// Output: JSON lines on stdout. A server prints {"ev":"ready",...} once it
// listens, then one {"ev":...} line for each thing it saw or did; it ends
// after --lifetime seconds. A client prints {"ev":...} lines as it goes and
// ends with one {"result":...} line.
// Exit status: 0 the exchange worked end to end; 1 the protocol failed
// (nothing came back, the peer could not connect back, a field was wrong:
// the result line says which); 2 bad usage or an unexpected error.
import { parseArgs } from 'node:util'

export const emit = (record) => process.stdout.write(`${JSON.stringify(record)}\n`)

/** Prints the result line and ends with 0 when ok, 1 otherwise. */
export const finish = (ok, record) => {
  emit(record)
  process.exit(ok ? 0 : 1)
}

/** Ends with status 2 on any error the peer did not expect. */
export const failOnError = () => {
  const fail = (e) => {
    process.stderr.write(`${e?.stack ?? e}\n`)
    process.exit(2)
  }
  process.on('uncaughtException', fail)
  process.on('unhandledRejection', fail)
}

/**
 * The role (first argument) and its options; numbers are numbers. `roles`
 * maps each role to {option: default}: a string default marks a string, a
 * null default a string that must be given.
 */
export const command = (usage, roles) => {
  failOnError()
  const [role, ...rest] = process.argv.slice(2)
  const defaults = roles[role]
  if (!defaults) {
    process.stderr.write(`usage: ${usage}\n`)
    process.exit(2)
  }
  const options = Object.fromEntries(Object.keys(defaults).map((k) => [k, { type: 'string' }]))
  let values
  try {
    values = parseArgs({ args: rest, options, strict: true }).values
  } catch (e) {
    process.stderr.write(`${e.message}\nusage: ${usage}\n`)
    process.exit(2)
  }
  const opts = {}
  for (const [k, d] of Object.entries(defaults)) {
    const v = values[k] ?? d
    if (v === null) {
      process.stderr.write(`--${k} is required\nusage: ${usage}\n`)
      process.exit(2)
    }
    opts[k] = typeof d === 'number' ? Number(v) : v
    if (typeof d === 'number' && !Number.isFinite(opts[k])) {
      process.stderr.write(`--${k}: a number expected\n`)
      process.exit(2)
    }
  }
  return { role, opts }
}

/** A server ends by itself: nothing outlives its test. */
export const endAfter = (seconds) => setTimeout(() => process.exit(0), seconds * 1000).unref()

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** "a.b.c.d:port" */
export const endpoint = (address, port) => `${address}:${port}`

/** Resolves with the first event `emitter` emits among `names`, or 'timeout' after `seconds`. */
export const firstOf = (emitter, names, seconds) =>
  new Promise((resolve) => {
    const timer = setTimeout(() => done('timeout'), seconds * 1000)
    const handlers = names.map((name) => [name, (...args) => done(name, ...args)])
    function done(name, ...args) {
      clearTimeout(timer)
      for (const [n, h] of handlers) emitter.off(n, h)
      resolve([name, ...args])
    }
    for (const [n, h] of handlers) emitter.on(n, h)
  })

/**
 * A queue of what `subscribe(push, end)` delivers: next(seconds) resolves with
 * the next item, or undefined once it ended or after `seconds` without one.
 */
export const queue = (subscribe) => {
  const items = []
  const waiting = []
  let ended = false
  subscribe(
    (item) => (waiting.length ? waiting.shift()(item) : items.push(item)),
    () => {
      ended = true
      for (const w of waiting.splice(0)) w(undefined)
    },
  )
  return {
    next: (seconds) =>
      items.length || ended
        ? Promise.resolve(items.shift())
        : new Promise((resolve) => {
            const timer = setTimeout(() => {
              waiting.splice(waiting.indexOf(wake), 1)
              resolve(undefined)
            }, seconds * 1000)
            const wake = (item) => {
              clearTimeout(timer)
              resolve(item)
            }
            waiting.push(wake)
          }),
  }
}

/** Binds a UDP socket (port 0: any free one) and resolves with it. */
export const boundUdp = (dgram, port, address = '0.0.0.0') =>
  new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4')
    socket.once('error', reject)
    socket.bind(port, address, () => {
      socket.off('error', reject)
      resolve(socket)
    })
  })

/** Sends one datagram and resolves once it left (a process may end right after). */
export const sendUdp = (socket, message, port, address) =>
  new Promise((resolve, reject) => socket.send(message, port, address, (e) => (e ? reject(e) : resolve())))

/** Listens with a TCP server and resolves with it. */
export const listening = (net, port, onConnection, address = '0.0.0.0') =>
  new Promise((resolve, reject) => {
    const server = net.createServer(onConnection)
    server.once('error', reject)
    server.listen(port, address, () => {
      server.off('error', reject)
      resolve(server)
    })
  })

/** Connects over TCP: {socket} or {error: code}, within `seconds`. */
export const connectTcp = (net, host, port, seconds) =>
  new Promise((resolve) => {
    const socket = net.connect({ host, port })
    socket.setNoDelay(true)
    const timer = setTimeout(() => {
      socket.destroy()
      resolve({ error: 'ETIMEDOUT' })
    }, seconds * 1000)
    socket.once('connect', () => {
      clearTimeout(timer)
      resolve({ socket })
    })
    socket.once('error', (e) => {
      clearTimeout(timer)
      resolve({ error: e.code ?? e.message })
    })
  })
