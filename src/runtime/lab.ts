// A three-namespace lab built (and always removed) by a test or the demo:
//
//   lan  eth0 192.168.1.10/24 (+ .11, .12), default via 192.168.1.1
//    | veth
//   gw   lan0 192.168.1.1/24   wan0 203.0.113.1/24   ip_forward=1 (here only)
//    | veth
//   wan  eth0 203.0.113.50/24  no route back to 192.168.0.0/16, so a packet
//        that was not masqueraded cannot be answered
//
// The veth pairs are created inside the namespaces (ip -n ... peer netns),
// never in the root namespace; sysctls are set inside the namespaces only.
// Traffic comes from tools/labtool.py (servers that answer with the
// peer address they saw, clients that tell an ICMP error from a reset from
// silence).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { addNetns, deleteNetns, withoutTapLoader } from './netns.ts'
import { projectPath } from './project.ts'

export const LAN_ADDRS = ['192.168.1.10', '192.168.1.11', '192.168.1.12'] as const
export const GW_LAN = '192.168.1.1'
export const GW_WAN = '203.0.113.1'
export const WAN = '203.0.113.50'

const LABTOOL = projectPath('tools', 'labtool.py')
const IPCHAINS = projectPath('bin', 'ipchains')
const IPFWADM = projectPath('bin', 'ipfwadm')
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'

export type Place = 'lan' | 'gw' | 'wan'

export interface Run {
  readonly stdout: string
  readonly stderr: string
  readonly status: number | null
  readonly signal: NodeJS.Signals | null
}

/** What a client saw; see labtool.py. */
export interface Probe {
  readonly result: 'reply' | 'icmp' | 'rst' | 'timeout' | 'error'
  readonly src: string
  readonly text?: string
  readonly replies?: string[]
  readonly type?: number
  readonly code?: number
  readonly from?: string
  readonly error?: string
}

export interface ServerEvent {
  readonly ev: 'tcp' | 'udp'
  readonly peer: string
  readonly local: string
  readonly len?: number
}

export interface Server {
  readonly events: ServerEvent[]
  /** The first event matching pred, waiting up to timeoutMs for it to be logged. */
  waitFor(pred: (e: ServerEvent) => boolean, timeoutMs?: number): Promise<ServerEvent | undefined>
  stop(): void
}

export interface ClientOptions {
  readonly src?: string
  readonly sport?: number
  readonly timeout?: number
  readonly count?: number
  readonly size?: number
}

let labs = 0

const run = (argv: readonly string[], input?: string): Run => {
  const r = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 })
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status, signal: r.signal }
}

const must = (argv: readonly string[]): void => {
  const r = run(argv)
  if (r.status !== 0) throw new Error(`lab setup: ${argv.join(' ')}: ${r.stderr.trim()}`)
}

const runAsync = (argv: readonly string[]): Promise<Run> =>
  new Promise((resolve) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('close', (status, signal) => resolve({ stdout, stderr, status, signal }))
  })

export class Lab {
  readonly ns: Record<Place, string>
  private readonly children: ChildProcess[] = []

  constructor() {
    const id = `${process.pid}-${++labs}`
    this.ns = { lan: `lfw-lan-${id}`, gw: `lfw-gw-${id}`, wan: `lfw-wan-${id}` }
  }

  /** argv run inside a lab namespace (without tap's Node loader). */
  argv(place: Place, argv: readonly string[]): string[] {
    return ['ip', 'netns', 'exec', this.ns[place], ...withoutTapLoader(argv)]
  }

  exec(place: Place, argv: readonly string[], input?: string): Run {
    return run(this.argv(place, argv), input)
  }

  up(): this {
    const { lan, gw, wan } = this.ns
    for (const ns of [lan, gw, wan]) addNetns(ns)
    must(['ip', '-n', gw, 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', lan])
    must(['ip', '-n', gw, 'link', 'add', 'wan0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', wan])
    for (const a of LAN_ADDRS) must(['ip', '-n', lan, 'addr', 'add', `${a}/24`, 'dev', 'eth0'])
    must(['ip', '-n', lan, 'link', 'set', 'eth0', 'up'])
    must(['ip', '-n', lan, 'route', 'add', 'default', 'via', GW_LAN, 'src', LAN_ADDRS[0]])
    must(['ip', '-n', gw, 'addr', 'add', `${GW_LAN}/24`, 'dev', 'lan0'])
    must(['ip', '-n', gw, 'addr', 'add', `${GW_WAN}/24`, 'dev', 'wan0'])
    must(['ip', '-n', gw, 'link', 'set', 'lan0', 'up'])
    must(['ip', '-n', gw, 'link', 'set', 'wan0', 'up'])
    must(['ip', '-n', wan, 'addr', 'add', `${WAN}/24`, 'dev', 'eth0'])
    must(['ip', '-n', wan, 'link', 'set', 'eth0', 'up'])
    must(this.argv('gw', ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']))
    // The lab's own ICMP errors must not be rate limited away (namespace-local).
    for (const place of ['lan', 'gw', 'wan'] as const) must(this.argv(place, ['sysctl', '-q', '-w', 'net.ipv4.icmp_ratelimit=0']))
    return this
  }

  /** Ends the lab's processes (only PIDs inside its namespaces), deletes it. */
  down(): void {
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    for (const ns of Object.values(this.ns)) deleteNetns(ns)
  }

  /** bin/ipchains in the gateway. */
  ipchains(...args: string[]): Run {
    return this.exec('gw', [IPCHAINS, ...args])
  }

  /** bin/ipfwadm in the gateway. */
  ipfwadm(...args: string[]): Run {
    return this.exec('gw', [IPFWADM, ...args])
  }

  /** Starts a program in a lab namespace in the background; it is killed when the lab goes down. */
  background(place: Place, argv: readonly string[]): ChildProcess {
    const full = this.argv(place, argv)
    const child = spawn(full[0] as string, full.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
    this.children.push(child)
    return child
  }

  /** Starts labtool servers and resolves once they listen. */
  serve(place: Place, ports: { tcp?: readonly number[]; udp?: readonly number[] }, lifetime = 110): Promise<Server> {
    const argv = this.argv(place, [
      PYTHON,
      LABTOOL,
      'serve',
      '--tcp',
      (ports.tcp ?? []).join(','),
      '--udp',
      (ports.udp ?? []).join(','),
      '--lifetime',
      String(lifetime),
    ])
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
    this.children.push(child)
    const events: ServerEvent[] = []
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const waitFor = async (pred: (e: ServerEvent) => boolean, timeoutMs = 3000): Promise<ServerEvent | undefined> => {
      const end = Date.now() + timeoutMs
      for (;;) {
        const found = events.find(pred)
        if (found || Date.now() > end) return found
        await new Promise((r) => setTimeout(r, 20))
      }
    }
    return new Promise((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        const ev = JSON.parse(line) as { ev: string }
        if (ev.ev === 'ready') resolve({ events, waitFor, stop: () => child.kill('SIGKILL') })
        else if (ev.ev === 'tcp' || ev.ev === 'udp') events.push(ev as ServerEvent)
      })
      child.on('close', (code) => reject(new Error(`server in ${place} ended (${code}): ${stderr}`)))
    })
  }

  private async client(place: Place, kind: 'tcp' | 'udp', host: string, port: number, o: ClientOptions): Promise<Probe> {
    const opts: string[] = []
    if (o.src) opts.push('--src', o.src)
    if (o.sport) opts.push('--sport', String(o.sport))
    if (o.timeout) opts.push('--timeout', String(o.timeout))
    if (o.count) opts.push('--count', String(o.count))
    if (o.size !== undefined) opts.push('--size', String(o.size))
    const r = await runAsync(this.argv(place, [PYTHON, LABTOOL, kind, host, String(port), ...opts]))
    const line = r.stdout.trim().split('\n').pop() ?? ''
    if (r.status !== 0 || !line.startsWith('{')) throw new Error(`${kind} client in ${place} failed (${r.status}): ${r.stderr}`)
    return JSON.parse(line) as Probe
  }

  tcp(place: Place, host: string, port: number, o: ClientOptions = {}): Promise<Probe> {
    return this.client(place, 'tcp', host, port, o)
  }

  udp(place: Place, host: string, port: number, o: ClientOptions = {}): Promise<Probe> {
    return this.client(place, 'udp', host, port, o)
  }

  /** One ICMP echo request. */
  async ping(place: Place, host: string, o: { src?: string; timeout?: number } = {}): Promise<{ result: 'reply' | 'timeout'; from?: string }> {
    const argv = [PYTHON, LABTOOL, 'ping', host, ...(o.src ? ['--src', o.src] : []), '--timeout', String(o.timeout ?? 2)]
    const r = await runAsync(this.argv(place, argv))
    if (r.status !== 0) throw new Error(`ping failed: ${r.stderr}`)
    return JSON.parse(r.stdout.trim()) as { result: 'reply' | 'timeout'; from?: string }
  }

  /** TCP segments with the given flags outside any connection (see labtool.py rawtcp). */
  async rawTcp(place: Place, o: { src: string; dst: string; sport: number; dport: number; flags: string; count?: number }): Promise<void> {
    const argv = [
      PYTHON,
      LABTOOL,
      'rawtcp',
      '--src',
      o.src,
      '--dst',
      o.dst,
      '--sport',
      String(o.sport),
      '--dport',
      String(o.dport),
      '--flags',
      o.flags,
      '--count',
      String(o.count ?? 1),
    ]
    const r = await runAsync(this.argv(place, argv))
    if (r.status !== 0) throw new Error(`rawtcp failed: ${r.stderr}`)
  }

  /** Watches for TCP/UDP packets of `port` while `during` runs and `seconds` after; their sources. */
  async sniff(place: Place, port: number, during: () => Promise<void>, seconds = 0.5): Promise<string[]> {
    const argv = this.argv(place, [PYTHON, LABTOOL, 'sniff', '--port', String(port), '--seconds', String(seconds)])
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] })
    this.children.push(child)
    const lines = createInterface({ input: child.stdout })
    const result = new Promise<string[]>((resolve, reject) => {
      lines.on('line', (line) => {
        const msg = JSON.parse(line) as { ev?: string; sources?: string[] }
        // Its stdin ending tells it the packets are sent.
        if (msg.ev === 'ready') void during().then(() => child.stdin.end(), reject)
        else resolve(msg.sources ?? [])
      })
      child.on('close', (code) => (code ? reject(new Error(`sniff in ${place} ended with ${code}`)) : undefined))
    })
    return result
  }

  /** UDP datagrams with a forged source address; returns the bytes sent. */
  async spoof(place: Place, o: { src: string; dst: string; dport: number; count: number; size?: number }): Promise<number> {
    const argv = [
      PYTHON,
      LABTOOL,
      'spoof',
      '--src',
      o.src,
      '--dst',
      o.dst,
      '--dport',
      String(o.dport),
      '--count',
      String(o.count),
      '--size',
      String(o.size ?? 16),
    ]
    const r = await runAsync(this.argv(place, argv))
    if (r.status !== 0) throw new Error(`spoof failed: ${r.stderr}`)
    return (JSON.parse(r.stdout.trim()) as { bytes: number }).bytes
  }
}

/** Builds a lab, runs body, and always tears the lab down. */
export const withLab = async <T>(body: (lab: Lab) => Promise<T> | T): Promise<T> => {
  const lab = new Lab()
  try {
    lab.up()
    return await body(lab)
  } finally {
    lab.down()
  }
}
