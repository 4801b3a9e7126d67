// Running the protocol peers of this folder (irc.mjs, cuseeme.mjs, ...)
// inside test namespaces, one exchange of each protocol, and the direct
// pair (two namespaces on one link, no NAT) where they run besides the
// lan/gw/wan lab (test/helpers/lab.ts, gateway scripts: ../alg-lab.ts).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Lab } from '../../../src/runtime/lab.ts'
import { deleteNetns, inNetns, newNetns, withoutTapLoader } from '../netns.ts'

export const PEERS = ['irc', 'cuseeme', 'vdolive', 'quake', 'pna', 'rtsp'] as const
export type Peer = (typeof PEERS)[number]

const PEER_DIR = new URL('.', import.meta.url).pathname

/** One JSON line a peer printed. */
export type Line = { readonly ev?: string; readonly result?: string } & Readonly<Record<string, unknown>>

export interface Finished {
  readonly status: number | null
  /** The result line (the last one). */
  readonly result: Line
  /** The lines before it. */
  readonly events: Line[]
  readonly stderr: string
}

export interface Running {
  readonly lines: Line[]
  /** The first line matching pred, waiting up to timeoutMs for it. */
  waitFor(pred: (l: Line) => boolean, timeoutMs?: number): Promise<Line | undefined>
  /** Resolves once the peer ended. */
  readonly done: Promise<Finished>
  stop(): void
}

const argList = (opts: Readonly<Record<string, string | number>>): string[] => Object.entries(opts).flatMap(([k, v]) => [`--${k}`, String(v)])

/** Starts `node PEER.mjs ROLE --opt value...` in the namespace; resolves once it printed a line matching `ready` (by default {"ev":"ready"}). */
export const startPeer = (
  ns: string,
  peer: Peer,
  role: string,
  opts: Readonly<Record<string, string | number>> = {},
  ready: (l: Line) => boolean = (l) => l.ev === 'ready',
): Promise<Running> => {
  const argv = ['ip', 'netns', 'exec', ns, ...withoutTapLoader([process.execPath, join(PEER_DIR, `${peer}.mjs`), role, ...argList(opts)])]
  const child: ChildProcess = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: Line[] = []
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const done = new Promise<Finished>((resolve) => {
    const out = createInterface({ input: child.stdout! })
    out.on('line', (text) => {
      try {
        lines.push(JSON.parse(text) as Line)
      } catch {
        lines.push({ ev: 'unparsed', text })
      }
    })
    // 'close' of the process comes after its stdout ended, so every line is in.
    child.on('close', (status) => resolve({ status, result: lines.at(-1) ?? {}, events: lines.slice(0, -1), stderr }))
  })
  const waitFor = async (pred: (l: Line) => boolean, timeoutMs = 3000): Promise<Line | undefined> => {
    const end = Date.now() + timeoutMs
    for (;;) {
      const found = lines.find(pred)
      if (found || Date.now() > end) return found
      await new Promise((r) => setTimeout(r, 20))
    }
  }
  const running: Running = { lines, waitFor, done, stop: () => child.exitCode === null && child.kill('SIGKILL') }
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      if (lines.some(ready)) {
        clearInterval(poll)
        resolve(running)
      }
    }, 10)
    void done.then((f) => {
      clearInterval(poll)
      if (lines.some(ready)) resolve(running)
      else reject(new Error(`${peer} ${role} in ${ns} ended (${f.status}) before it was ready: ${stderr}`))
    })
  })
}

/** Runs a client peer to its end. */
export const runPeer = async (ns: string, peer: Peer, role: string, opts: Readonly<Record<string, string | number>> = {}): Promise<Finished> =>
  (await startPeer(ns, peer, role, opts, () => true)).done

// ---------------------------------------------------------------------------
// Where the peers run

export const LAN_HOST = '192.168.1.10'
export const WAN_HOST = '203.0.113.50'

/** Checksum offload off on the pair's veth, as alg-lab.ts offloadOff does in the lab: a wrong checksum is then dropped, as on a wire. */
const offloadOff = (ns: string, dev: string): void => {
  const r = inNetns(ns, ['ethtool', '-K', dev, 'tx', 'off', 'rx', 'off'])
  if (r.status !== 0) throw new Error(`ethtool -K ${dev} tx off rx off in ${ns}: ${r.stderr}`)
}

export interface Pair {
  readonly lan: string
  readonly wan: string
}

/**
 * Two namespaces on one veth link, no NAT and no router: lan has
 * 192.168.1.10 and wan 203.0.113.50, each the other's network on the link.
 */
export const withDirectPair = async <T>(body: (pair: Pair) => Promise<T>): Promise<T> => {
  const lan = newNetns('algp-lan')
  let wan: string | undefined
  try {
    wan = newNetns('algp-wan')
    const must = (argv: string[]): void => {
      const r = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8' })
      if (r.status !== 0) throw new Error(`pair setup: ${argv.join(' ')}: ${r.stderr}`)
    }
    must(['ip', '-n', lan, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', wan])
    must(['ip', '-n', lan, 'addr', 'add', `${LAN_HOST}/24`, 'dev', 'eth0'])
    must(['ip', '-n', wan, 'addr', 'add', `${WAN_HOST}/24`, 'dev', 'eth0'])
    for (const ns of [lan, wan]) {
      must(['ip', '-n', ns, 'link', 'set', 'eth0', 'up'])
      offloadOff(ns, 'eth0')
    }
    must(['ip', '-n', lan, 'route', 'add', '203.0.113.0/24', 'dev', 'eth0'])
    must(['ip', '-n', wan, 'route', 'add', '192.168.1.0/24', 'dev', 'eth0'])
    return await body({ lan, wan })
  } finally {
    if (wan) deleteNetns(wan)
    deleteNetns(lan)
  }
}

/** The lab's lan and wan namespaces as a pair. */
export const labPair = (lab: Lab): Pair => ({ lan: lab.ns.lan, wan: lab.ns.wan })

// ---------------------------------------------------------------------------
// One exchange of each protocol: the server side in wan, the client in lan

export interface Exchange {
  /** The client in lan (for IRC the sender of the DCC offer). */
  readonly client: Finished
  /** What the server in wan logged (for CU-SeeMe the reflector). */
  readonly server: Line[]
  /** IRC: the receiver in wan that connected back. */
  readonly receiver?: Finished
}

/** CU-SeeMe participants in wan (all claiming 203.0.113.50) that join before the lan client. */
export const OUTSIDE_PARTICIPANTS = ['carol', 'dave', 'erin'] as const

/** Runs the server, then `clients`; stops the server once `last` was logged (or 1 s later). */
const withServer = async (
  ns: string,
  peer: Peer,
  opts: Readonly<Record<string, string | number>>,
  last: (l: Line) => boolean,
  clients: (server: Running) => Promise<Omit<Exchange, 'server'>>,
): Promise<Exchange> => {
  const server = await startPeer(ns, peer, peer === 'cuseeme' ? 'reflector' : 'server', { lifetime: 30, ...opts })
  try {
    const ran = await clients(server)
    await server.waitFor(last, 1000)
    return { ...ran, server: server.lines }
  } finally {
    server.stop()
  }
}

/** Each protocol's exchange, its server on the protocol's port or on `port`. */
export const EXCHANGES: Readonly<Record<Peer, (p: Pair, port?: number) => Promise<Exchange>>> = {
  irc: ({ lan, wan }, port = 6667) =>
    withServer(
      wan,
      'irc',
      { port },
      (l) => l.ev === 'privmsg',
      async () => {
        const receiver = await startPeer(wan, 'irc', 'fetch', { server: WAN_HOST, port, nick: 'bob', timeout: 3 }, (l) => l.ev === 'registered')
        try {
          const client = await runPeer(lan, 'irc', 'offer', { server: WAN_HOST, port, nick: 'alice', to: 'bob', size: 65536, timeout: 3 })
          return { client, receiver: await receiver.done }
        } finally {
          receiver.stop()
        }
      },
    ),
  // Participants in wan speak first, so the lan client's record is the fourth of the list.
  cuseeme: ({ lan, wan }, port = 7648) =>
    withServer(
      wan,
      'cuseeme',
      { addr: WAN_HOST, port },
      (l) => l['name'] === 'alice',
      async () => {
        for (const name of OUTSIDE_PARTICIPANTS) {
          const other = await runPeer(wan, 'cuseeme', 'client', { reflector: WAN_HOST, port, name, count: 1 })
          if (other.status !== 0) throw new Error(`the wan participant ${name} failed: ${JSON.stringify(other)}`)
        }
        return { client: await runPeer(lan, 'cuseeme', 'client', { reflector: WAN_HOST, port, name: 'alice', count: 3, timeout: 1 }) }
      },
    ),
  vdolive: ({ lan, wan }, port = 7000) =>
    withServer(
      wan,
      'vdolive',
      { port, count: 3 },
      (l) => l.ev === 'streamed',
      async () => ({
        client: await runPeer(lan, 'vdolive', 'client', { server: WAN_HOST, port, count: 3, timeout: 2 }),
      }),
    ),
  quake: ({ lan, wan }, port = 26000) =>
    withServer(
      wan,
      'quake',
      { port, count: 3 },
      (l) => l.ev === 'acks' && l['count'] === 3,
      async () => ({
        client: await runPeer(lan, 'quake', 'client', { server: WAN_HOST, port, count: 3, timeout: 2 }),
      }),
    ),
  pna: ({ lan, wan }, port = 7070) =>
    withServer(
      wan,
      'pna',
      { port, count: 3 },
      (l) => l.ev === 'streamed' && l['record'] === 1,
      async () => ({
        client: await runPeer(lan, 'pna', 'client', { server: WAN_HOST, port, order: '3,7,1', count: 3, timeout: 2 }),
      }),
    ),
  rtsp: ({ lan, wan }, port = 554) =>
    withServer(
      wan,
      'rtsp',
      { port, count: 3 },
      (l) => l.ev === 'request' && l['method'] === 'TEARDOWN',
      async () => ({
        client: await runPeer(lan, 'rtsp', 'client', { server: WAN_HOST, port, count: 3, timeout: 2 }),
      }),
    ),
}
