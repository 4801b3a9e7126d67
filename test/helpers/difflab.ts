// The namespace lab of the differential tests: a gateway GW between a sender
// side S and a receiver side R, generated packets injected as Ethernet
// frames by pktlab.py, and what became of each one observed without
// touching GW's firewall.
//
//   S                   GW (rules under test)                  R
//   s0 10.1.0.2 ---- eth0 10.1.0.1       ppp0 10.3.0.1 ---- r0 10.3.0.2
//   s1 10.2.0.2 ---- eth1 10.2.0.1       ppp1 10.4.0.1 ---- r1 10.4.0.2
//
// GW routes 192.168.0.0/16 to S over eth0, 172.16.0.0/12 to S over eth1,
// 10.5.0.0/16 to R over ppp0 and 10.6.0.0/16 to R over ppp1; rp_filter is
// off, so S and R may send any source address of their side on either
// link. Raw sockets in GW see what is delivered locally (after the input
// path, so a redirect shows as a changed destination), sniffers on S's and
// R's links see what was forwarded and the ICMP errors GW answered with.
// S and R drop everything they receive (after the sniffers), so they never
// answer.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import { basename } from 'node:path'
import { createInterface } from 'node:readline'
import type { Test } from 'tap'
import { deleteNetns, inNetnsAsync, newNetns, requireRootAndNft, withoutTapLoader } from './netns.ts'

const PKTLAB = new URL('./pktlab.py', import.meta.url).pathname

// ---------------------------------------------------------------------------
// Deterministic randomness

export type Rng = () => number
export const mulberry32 =
  (seed: number): Rng =>
  () => {
    seed = (seed + 0x6d2b79f5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
export const int = (r: Rng, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1))
export const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T
export const chance = (r: Rng, p: number): boolean => r() < p
export const weighted = <T>(r: Rng, xs: readonly (readonly [T, number])[]): T => {
  let x = r() * xs.reduce((a, [, w]) => a + w, 0)
  for (const [v, w] of xs) if ((x -= w) < 0) return v
  return (xs[xs.length - 1] as readonly [T, number])[0]
}

// ---------------------------------------------------------------------------
// Topology

export type Iface = 'eth0' | 'eth1' | 'ppp0' | 'ppp1'
export const LINKS = [
  { gw: 'eth0', peer: 's0', side: 'S', net: '10.1.0', n: 1 },
  { gw: 'eth1', peer: 's1', side: 'S', net: '10.2.0', n: 2 },
  { gw: 'ppp0', peer: 'r0', side: 'R', net: '10.3.0', n: 3 },
  { gw: 'ppp1', peer: 'r1', side: 'R', net: '10.4.0', n: 4 },
] as const
const gwMac = (n: number): string => `02:00:00:00:0${n}:01`
const peerMac = (n: number): string => `02:00:00:00:0${n}:02`
export const GW_ADDRS = LINKS.map((l) => `${l.net}.1`)
export const isLocal = (dst: string): boolean => GW_ADDRS.includes(dst)
/** GW's route to an address that is not its own. */
export const outIf = (dst: string): Iface => {
  if (dst.startsWith('10.3.') || dst.startsWith('10.5.')) return 'ppp0'
  if (dst.startsWith('10.4.') || dst.startsWith('10.6.')) return 'ppp1'
  if (dst.startsWith('10.1.') || dst.startsWith('192.168.')) return 'eth0'
  return 'eth1'
}
export const linkOf = (iface: Iface): (typeof LINKS)[number] => LINKS.find((l) => l.gw === iface) as (typeof LINKS)[number]
/** GW's (only, so primary) address on an interface. */
export const ifaceAddr = (iface: Iface): string => `${linkOf(iface).net}.1`
export const outAddr = (dst: string): string => ifaceAddr(outIf(dst))

export interface Lab {
  readonly s: string
  readonly gw: string
  readonly r: string
}

export const run = (ns: string, argv: readonly string[], input?: string): string => {
  const res = spawnSync('ip', ['netns', 'exec', ns, ...withoutTapLoader(argv)], { encoding: 'utf8', input })
  if (res.status !== 0) throw new Error(`${ns}: ${argv.join(' ')}: exit ${res.status}\n${res.stderr}`)
  return res.stdout
}

const SINK = 'table ip sink {\n chain pre {\n  type filter hook prerouting priority -500; policy drop;\n }\n}\n'

export const newLab = (tag: string): Lab => ({ s: newNetns(`${tag}S`), gw: newNetns(`${tag}GW`), r: newNetns(`${tag}R`) })

export const deleteLab = (lab: Lab): void => {
  for (const ns of Object.values(lab)) deleteNetns(ns)
}

export const buildLab = (lab: Lab): void => {
  // Forwarding, no reverse-path filter and no ICMP rate limit in GW only.
  run(lab.gw, [
    'sysctl',
    '-qw',
    'net.ipv4.ip_forward=1',
    'net.ipv4.conf.all.rp_filter=0',
    'net.ipv4.conf.default.rp_filter=0',
    'net.ipv4.conf.all.send_redirects=0',
    'net.ipv4.conf.default.send_redirects=0',
    'net.ipv4.icmp_ratemask=0',
  ])
  for (const l of LINKS) {
    const peerNs = l.side === 'S' ? lab.s : lab.r
    execFileSync('ip', [
      '-n',
      lab.gw,
      'link',
      'add',
      l.gw,
      'address',
      gwMac(l.n),
      'type',
      'veth',
      'peer',
      'name',
      l.peer,
      'address',
      peerMac(l.n),
      'netns',
      peerNs,
    ])
    execFileSync('ip', ['-n', lab.gw, 'addr', 'add', `${l.net}.1/24`, 'dev', l.gw])
    execFileSync('ip', ['-n', peerNs, 'addr', 'add', `${l.net}.2/24`, 'dev', l.peer])
    execFileSync('ip', ['-n', lab.gw, 'link', 'set', l.gw, 'up'])
    execFileSync('ip', ['-n', peerNs, 'link', 'set', l.peer, 'up'])
    execFileSync('ip', ['-n', lab.gw, 'neigh', 'replace', `${l.net}.2`, 'lladdr', peerMac(l.n), 'dev', l.gw, 'nud', 'permanent'])
    run(lab.gw, ['sysctl', '-qw', `net.ipv4.conf.${l.gw}.rp_filter=0`])
  }
  for (const [net, via] of [
    ['192.168.0.0/16', '10.1.0.2'],
    ['172.16.0.0/12', '10.2.0.2'],
    ['10.5.0.0/16', '10.3.0.2'],
    ['10.6.0.0/16', '10.4.0.2'],
  ] as const)
    execFileSync('ip', ['-n', lab.gw, 'route', 'add', net, 'via', via])
  run(lab.s, ['nft', '-f', '-'], SINK)
  run(lab.r, ['nft', '-f', '-'], SINK)
}

/** Why the differential tests cannot run here, if they cannot. */
export const missingForDiff = (): string | undefined =>
  requireRootAndNft() ??
  (spawnSync('python3', ['-c', 'import socket']).status !== 0 ? 'this test needs python3 (apt-get install python3)' : undefined) ??
  (spawnSync('conntrack', ['--version']).status !== 0 ? 'this test needs conntrack (apt-get install conntrack)' : undefined)

/** A new lab, deleted when the test ends, and whether it could be built (if not, the test failed). */
export const startLab = (t: Test, tag: string): { lab: Lab; built: boolean } => {
  const lab = newLab(tag)
  t.teardown(() => deleteLab(lab))
  try {
    buildLab(lab)
    return { lab, built: true }
  } catch (e) {
    t.fail(`building the namespace lab: ${(e as Error).message}`)
    return { lab, built: false }
  }
}

/**
 * Loads a rule set with `bin` into GW's emptied firewall, no connection
 * tracked: its listing ("<tool> <args>" a line), or undefined (and the test
 * failed) if a command fails.
 */
export const loadRuleSet = (t: Test, lab: Lab, bin: string, commands: readonly string[][]): string | undefined => {
  const tool = basename(bin)
  run(lab.gw, ['nft', 'flush', 'ruleset'])
  spawnSync('ip', ['netns', 'exec', lab.gw, 'conntrack', '-F'], { stdio: 'ignore' })
  const listing = commands.map((c) => `${tool} ${c.join(' ')}`).join('\n')
  if (process.env['LEGACYFW_DIFF_VERBOSE']) t.comment(listing)
  for (const cmd of commands) {
    const res = spawnSync('ip', ['netns', 'exec', lab.gw, ...withoutTapLoader([bin, ...cmd])], { encoding: 'utf8' })
    if (res.status !== 0 || res.stderr) {
      t.fail(`generated command failed: ${tool} ${cmd.join(' ')}`, { stderr: res.stderr, status: res.status })
      return undefined
    }
  }
  return listing
}

/** Runs `bin` with each argument list in GW, four at a time: the exit status and output of each. */
export const runEach = async (lab: Lab, bin: string, commands: readonly string[][]): Promise<{ status: number | null; out: string }[]> => {
  const results: { status: number | null; out: string }[] = new Array(commands.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < commands.length) {
      const i = next++
      const res = await inNetnsAsync(lab.gw, [bin, ...(commands[i] as string[])])
      results[i] = { status: res.status, out: res.out.trim() }
    }
  }
  await Promise.all(Array.from({ length: 4 }, worker))
  return results
}

// ---------------------------------------------------------------------------
// Packets

export const TCP = 6
export const UDP = 17
export const ICMP = 1
export const GRE = 47
export const F = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const
/** TCP flags conntrack takes as the first packet of a connection (loose pickup). */
export const TRACKABLE_FLAGS = [F.SYN, F.SYN, F.ACK, F.PSH | F.ACK]
export const ALL_FLAGS = [F.SYN, F.SYN, F.ACK, F.PSH | F.ACK, F.SYN | F.ACK, F.RST, F.RST | F.ACK, F.SYN | F.RST, F.FIN | F.ACK, F.SYN | F.FIN]
export const ICMP_KINDS: readonly (readonly [number, number])[] = [
  [8, 0],
  [8, 0],
  [0, 0],
  [3, 0],
  [3, 1],
  [3, 3],
  [3, 13],
  [4, 0],
  [11, 0],
  [11, 1],
  [12, 0],
  [13, 0],
  [14, 0],
  [17, 0],
  [18, 0],
]
export const ICMP_ERROR_TYPES = [3, 4, 5, 11, 12]
/** Types the masquerading code rewrote (ip_fw_masq_icmp); it left the others alone. */
export const ICMP_QUERY_TYPES = [8, 13, 15, 17]

export interface Packet {
  readonly id: number
  /** The peer's end of the link it is sent on (s0, s1, r0, r1). */
  readonly link: string
  /** GW's end of that link. */
  readonly inIf: Iface
  readonly src: string
  readonly dst: string
  readonly proto: number
  readonly sport: number
  readonly dport: number
  readonly flags: number
  readonly type: number
  readonly code: number
}

export const protoName = (p: Pick<Packet, 'proto'>): string => ({ [TCP]: 'tcp', [UDP]: 'udp', [ICMP]: 'icmp' })[p.proto] ?? String(p.proto)
export const hasPorts = (p: Pick<Packet, 'proto'>): boolean => p.proto === TCP || p.proto === UDP
/** SYN without ACK and RST: what -y (ipchains, ipfwadm) asks for. */
export const tcpsyn = (p: Pick<Packet, 'proto' | 'flags'>): boolean =>
  p.proto === TCP && (p.flags & F.SYN) !== 0 && (p.flags & (F.ACK | F.RST)) === 0
/** Would GW answer this packet with an ICMP error? (Never an ICMP error.) */
export const answered = (p: Pick<Packet, 'proto' | 'type'>): boolean => p.proto !== ICMP || !ICMP_ERROR_TYPES.includes(p.type)

export const describe = (p: Packet): string => {
  const flags = Object.entries(F)
    .filter(([, bit]) => p.flags & bit)
    .map(([name]) => name)
    .join('|')
  const l4 = hasPorts(p)
    ? ` ${p.sport} -> ${p.dport}${p.proto === TCP ? ` [${flags}]` : ''}`
    : p.proto === ICMP
      ? ` type ${p.type} code ${p.code}`
      : ''
  return `#${p.id} ${protoName(p)} ${p.src} -> ${p.dst}${l4} in ${p.inIf}${isLocal(p.dst) ? ' (to gw)' : ` (transit, out ${outIf(p.dst)})`}`
}

const SPORTS = [53, 80, 123, 1023, 1024, 1025, 3000, 6000, 6005, 32768, 40000, 61000]
const DPORTS = [21, 22, 23, 25, 53, 79, 80, 110, 443, 1023, 1024, 6000, 6010, 8000]

/** What a rule set's packets are drawn from. */
export interface PacketMix {
  readonly packets: number
  /** Share of packets addressed to GW itself. */
  readonly localShare: number
  readonly gre: boolean
}

/** A generated packet is drawn again if one with its key was drawn before. */
export type PacketKey = (p: Packet) => string
/** Protocol, addresses, ports and ICMP type. */
export const fieldsKey: PacketKey = (p) => `${p.proto} ${p.src} ${p.dst} ${p.sport} ${p.dport} ${p.type}`
/** One packet per connection, either way round (no packet is another's reply). */
export const connectionKey: PacketKey = (p) => {
  const ends = [`${p.src}:${p.sport}`, `${p.dst}:${p.dport}`].sort().join(' ')
  return `${p.proto} ${ends} ${p.type}`
}

/** Packets numbered from firstId, TCP flags drawn from `flags`, no two with the same key. */
export const genPackets = (r: Rng, mix: PacketMix, flags: readonly number[], key: PacketKey, firstId: number): Packet[] => {
  const seen = new Set<string>()
  const out: Packet[] = []
  while (out.length < mix.packets) {
    // Mostly from S towards R, some from R towards S.
    const fromS = chance(r, 0.7)
    const inIf = pick(r, fromS ? (['eth0', 'eth1'] as const) : (['ppp0', 'ppp1'] as const))
    const sNet = weighted(r, [
      [`192.168.1.${int(r, 1, 254)}`, 3],
      [`192.168.2.${int(r, 1, 254)}`, 2],
      [`172.16.5.${int(r, 1, 254)}`, 2],
      [`172.20.${int(r, 0, 3)}.${int(r, 1, 254)}`, 1],
      ['10.1.0.2', 1],
      ['10.2.0.2', 1],
    ] as const)
    const rNet = weighted(r, [
      ['10.3.0.2', 1],
      ['10.4.0.2', 1],
      [`10.5.${int(r, 0, 255)}.${int(r, 1, 254)}`, 2],
      [`10.6.${int(r, 0, 3)}.${int(r, 1, 254)}`, 2],
    ] as const)
    const src = fromS ? sNet : rNet
    const dst = chance(r, mix.localShare) ? pick(r, GW_ADDRS) : fromS ? rNet : sNet
    const proto = weighted(r, [
      [TCP, 4],
      [UDP, 3],
      [ICMP, 3],
      [GRE, mix.gre ? 1 : 0],
    ] as const)
    const [type, code] = proto === ICMP ? pick(r, ICMP_KINDS) : [0, 0]
    const p: Packet = {
      id: firstId + out.length,
      link: linkOf(inIf).peer,
      inIf,
      src,
      dst,
      proto,
      sport: hasPorts({ proto }) ? pick(r, SPORTS) : 0,
      dport: hasPorts({ proto }) ? pick(r, DPORTS) : 0,
      flags: proto === TCP ? pick(r, flags) : 0,
      type,
      code,
    }
    if (seen.has(key(p))) continue
    seen.add(key(p))
    out.push(p)
  }
  return out
}

// ---------------------------------------------------------------------------
// Observation

interface Seen {
  readonly link?: string
  readonly id: number
  readonly proto: number
  readonly src: string
  readonly dst: string
  readonly sport?: number
  readonly dport?: number
  readonly type?: number
  readonly code?: number
  readonly icmpid?: number
  readonly inner?: { readonly id: number; readonly proto: number; readonly src: string; readonly dst: string }
}

export interface Observations {
  /** Delivered in GW. */
  readonly local: readonly Seen[]
  /** Received by S and R. */
  readonly peers: readonly Seen[]
}

export const MASQ_LOW = 61000
export const MASQ_HIGH = 65095

/**
 * What became of a packet: local, redirected (delivered locally with
 * another destination address or port), forwarded, masqueraded (source =
 * GW's outgoing address, port or ICMP query id from 61000-65095),
 * port-unreachable / host-unreachable (GW's answer), dropped, or several
 * joined with " + ".
 */
export const observed = (p: Packet, obs: Observations): string => {
  const outcomes: string[] = []
  for (const o of obs.local.filter((o) => o.id === p.id && o.proto === p.proto && o.src === p.src)) {
    const moved = o.dst !== p.dst || (hasPorts(p) && o.dport !== p.dport)
    outcomes.push(moved ? 'redirected' : 'local')
  }
  const farSide = linkOf(outIf(p.dst)).peer
  for (const o of obs.peers.filter((o) => o.link === farSide && o.id === p.id && o.proto === p.proto && o.dst === p.dst)) {
    const port = hasPorts(p) ? o.sport : p.proto === ICMP && ICMP_QUERY_TYPES.includes(p.type) ? o.icmpid : undefined
    const sent = hasPorts(p) ? p.sport : p.id
    if (o.src === p.src && (port === undefined || port === sent)) outcomes.push('forwarded')
    else if (o.src === outAddr(p.dst) && (port === undefined || (port >= MASQ_LOW && port <= MASQ_HIGH))) outcomes.push('masqueraded')
    else outcomes.push(`forwarded from ${o.src}${port === undefined ? '' : ` port/id ${port}`}`)
  }
  for (const o of obs.peers.filter((o) => o.inner?.id === p.id && o.inner.proto === p.proto && o.inner.src === p.src && o.inner.dst === p.dst)) {
    if (o.type === 3 && o.code === 3) outcomes.push('port-unreachable')
    else if (o.type === 3 && o.code === 1) outcomes.push('host-unreachable')
    else outcomes.push(`icmp ${o.type}/${o.code}`)
  }
  // Local delivery may itself be answered (port/protocol unreachable, RST).
  const unique = [...new Set(outcomes)]
  if (unique.includes('local') || unique.includes('redirected'))
    return unique.filter((o) => !o.includes('unreachable') && !o.startsWith('icmp')).join(' + ')
  return unique.length ? unique.join(' + ') : 'dropped'
}

interface Helper {
  readonly child: ChildProcess
  readonly lines: string[]
  readonly ready: Promise<void>
  readonly done: Promise<void>
}

const startHelper = (ns: string, args: readonly string[]): Helper => {
  const child = spawn('ip', ['netns', 'exec', ns, ...withoutTapLoader(['python3', PKTLAB, ...args])], { stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  const ready = new Promise<void>((resolve, reject) => {
    rl.on('line', (line) => {
      if (line === 'ready') resolve()
      else if (line !== 'done') lines.push(line)
    })
    child.on('exit', (code) => reject(new Error(`pktlab ${args.join(' ')} in ${ns} exited ${code}: ${stderr}`)))
  })
  const done = new Promise<void>((resolve) => rl.on('close', resolve))
  return { child, lines, ready, done }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Sends the packets from S and R and collects what GW delivered and the peers received. */
export const sendAndObserve = async (lab: Lab, packets: readonly Packet[]): Promise<Observations> => {
  const helpers = [
    startHelper(lab.gw, ['observe', '1', '6', '17', '47']),
    startHelper(lab.r, ['sniff', 'r0', 'r1']),
    startHelper(lab.s, ['sniff', 's0', 's1']),
  ]
  try {
    await Promise.all(helpers.map((h) => h.ready))
    for (const side of ['S', 'R'] as const) {
      const links = LINKS.filter((l) => l.side === side)
      const mine = packets.filter((p) => links.some((l) => l.peer === p.link))
      const macs = links.map((l) => `${l.peer}=${peerMac(l.n)}>${gwMac(l.n)}`)
      run(side === 'S' ? lab.s : lab.r, ['python3', PKTLAB, 'send', ...macs], JSON.stringify(mine.map((p) => ({ ...p, gap: 0.002 }))))
    }
    await sleep(400)
  } finally {
    for (const h of helpers) if (h.child.exitCode === null && h.child.pid) h.child.kill('SIGTERM')
  }
  await Promise.all(helpers.map((h) => h.done))
  const parse = (h: Helper): Seen[] => h.lines.map((l) => JSON.parse(l) as Seen)
  const [gw, r, s] = helpers as [Helper, Helper, Helper]
  return { local: parse(gw), peers: [...parse(r), ...parse(s)] }
}

// ---------------------------------------------------------------------------
// Choosing rule sets

export const count = (m: Map<string, number>, key: string): void => void m.set(key, (m.get(key) ?? 0) + 1)

/** How far a verdict mix is from what is wanted: the packets missing (0 = there) and where. */
export interface Shortfall {
  readonly missing: number
  readonly where: readonly string[]
}

/**
 * The shortfall of a mix of `packets` packets: at least `want[key]` of
 * each key, no single outcome ("=> ...") for more than 60% of the packets,
 * and every count of the `penalty` key (excluded packets, failed commands)
 * missing.
 */
export const shortfall = (
  want: Readonly<Record<string, number>>,
  packets: number,
  mix: ReadonlyMap<string, number>,
  penalty: string,
): Shortfall => {
  const where: string[] = []
  let missing = 0
  const off = (key: string, n: number, how: string): void => {
    if (n <= 0) return
    missing += n
    where.push(`${key} ${n}${how}`)
  }
  off(penalty, mix.get(penalty) ?? 0, '')
  for (const [key, n] of Object.entries(want)) off(key, n - (mix.get(key) ?? 0), ' short')
  for (const [key, n] of mix) if (key.startsWith('=> ')) off(key, n - Math.floor(packets * 0.6), ' too many')
  return { missing, where }
}

export interface Choice<C> {
  readonly candidate: C
  /** Which draw it was (1-based). */
  readonly tries: number
  readonly shortfall: Shortfall
}

/** Draws up to 30 candidates: the first that misses nothing, else the first that misses least. */
export const chooseCandidate = async <C>(draw: () => Promise<{ candidate: C; shortfall: Shortfall }>): Promise<Choice<C>> => {
  let best: Choice<C> | undefined
  for (let tries = 1; tries <= 30; tries++) {
    const { candidate, shortfall } = await draw()
    if (!best || shortfall.missing < best.shortfall.missing) best = { candidate, tries, shortfall }
    if (shortfall.missing === 0) break
  }
  return best as Choice<C>
}

/** The tap comment naming the candidate a rule set is, and what it falls short of. */
export const choiceComment = (name: string, choice: Choice<unknown>): string =>
  `${name}: candidate ${choice.tries}${choice.shortfall.missing ? ` (best found: ${choice.shortfall.where.join(', ')})` : ''}`

/** The ipchains -C command for a packet as the given chain sees it. */
export const checkArgs = (chain: 'input' | 'forward', p: Packet): string[] => {
  const ports = p.proto === TCP || p.proto === UDP ? [String(p.sport), String(p.dport)] : p.proto === ICMP ? [String(p.type), String(p.code)] : []
  return [
    '-C',
    chain,
    '-p',
    protoName(p),
    '-s',
    p.src,
    ...ports.slice(0, 1),
    '-d',
    p.dst,
    ...ports.slice(1),
    '-i',
    chain === 'input' ? p.inIf : outIf(p.dst),
    ...(tcpsyn(p) ? ['-y'] : []),
  ]
}
