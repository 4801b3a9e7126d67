// The 2.2 view of interfaces and routes, built from modern iproute2 JSON
// (`ip -j addr show`, `ip -j -s -s link show`, `ip -j route show table main`).
// The callers spawn the commands; these functions only read their text.
import { bitsToMask, dottedToAddr, maskToBits } from '../common/inet.ts'
import { type DeviceStats, type EraInterface, type EraRoute, type IfFlag, type LinkType, IF_FLAGS } from './model.ts'

interface IpAddrInfo {
  readonly family?: string
  readonly local?: string
  readonly address?: string
  readonly prefixlen?: number
  readonly broadcast?: string
  readonly label?: string
}

interface IpLink {
  readonly ifname: string
  readonly flags?: readonly string[]
  readonly mtu?: number
  readonly txqlen?: number
  readonly link_type?: string
  readonly address?: string
  readonly addr_info?: readonly IpAddrInfo[]
}

type Counters = Readonly<Record<string, number | undefined>>

interface IpLinkStats {
  readonly ifname: string
  readonly stats64?: { readonly rx?: Counters; readonly tx?: Counters }
}

interface IpRoute {
  readonly type?: string
  readonly dst: string
  readonly gateway?: string
  readonly dev?: string
  readonly metric?: number
  readonly flags?: readonly string[]
  readonly metrics?: readonly Counters[]
  readonly nexthops?: readonly { readonly gateway?: string; readonly dev?: string }[]
}

const addr = (dotted: string | undefined): number => dottedToAddr(dotted ?? '') ?? 0

const linkTypeOf = (linkType: string | undefined): LinkType =>
  linkType === 'ether' || linkType === 'loopback' || linkType === 'ppp' ? linkType : 'other'

const hwBytes = (mac: string | undefined): number[] => (mac === undefined ? [] : mac.split(':').map((byte) => parseInt(byte, 16)))

/** ip prints IFF_RUNNING only by its absence: NO-CARRIER on an UP link. */
const flagsOf = (ipFlags: readonly string[]): IfFlag[] => {
  const running = ipFlags.includes('UP') && !ipFlags.includes('NO-CARRIER')
  return IF_FLAGS.filter((flag) => (flag === 'RUNNING' ? running : ipFlags.includes(flag)))
}

/** dev_get_stats() folded as /proc/net/dev prints it (2.2 and today alike). */
const statsOf = (rx: Counters, tx: Counters): DeviceStats => {
  const n = (counters: Counters, ...keys: string[]): number => keys.reduce((sum, key) => sum + (counters[key] ?? 0), 0)
  return {
    rxPackets: n(rx, 'packets'),
    rxErrors: n(rx, 'errors'),
    rxDropped: n(rx, 'dropped', 'missed_errors'),
    rxOverruns: n(rx, 'fifo_errors'),
    rxFrame: n(rx, 'length_errors', 'over_errors', 'crc_errors', 'frame_errors'),
    txPackets: n(tx, 'packets'),
    txErrors: n(tx, 'errors'),
    txDropped: n(tx, 'dropped'),
    txOverruns: n(tx, 'fifo_errors'),
    txCarrier: n(tx, 'carrier_errors', 'aborted_errors', 'window_errors', 'heartbeat_errors'),
    collisions: n(tx, 'collisions'),
  }
}

/** Device statistics by name from `ip -j -s -s link show` (-s -s: every error counter). */
export const statsFromIpLink = (json: string): Map<string, DeviceStats> =>
  new Map((JSON.parse(json) as IpLinkStats[]).map((link) => [link.ifname, statsOf(link.stats64?.rx ?? {}, link.stats64?.tx ?? {})]))

const ipv4Of = (info: IpAddrInfo) => {
  const local = addr(info.local)
  return {
    local,
    peer: info.address === undefined ? local : addr(info.address),
    mask: bitsToMask(info.prefixlen ?? 32),
    broadcast: addr(info.broadcast),
  }
}

/**
 * One entry per device and one per alias label. SIOCGIFADDR answers with the
 * first address whose label is the name asked for, so unlabelled secondary
 * addresses stay invisible, as they were to 2.2 tools.
 */
const interfacesOfLink = (link: IpLink, stats: ReadonlyMap<string, DeviceStats>): EraInterface[] => {
  const inet = (link.addr_info ?? []).filter((info) => info.family === 'inet')
  const labels = [...new Set([link.ifname, ...inet.map((info) => info.label ?? link.ifname)])]
  const device = {
    linkType: linkTypeOf(link.link_type),
    hwAddress: hwBytes(link.address),
    flags: flagsOf(link.flags ?? []),
    mtu: link.mtu ?? 0,
    metric: 0,
    txQueueLength: link.txqlen ?? 0,
  }
  return labels.map((label) => {
    const first = inet.find((info) => (info.label ?? link.ifname) === label)
    const deviceStats = label === link.ifname ? stats.get(label) : undefined
    return {
      name: label,
      ...device,
      ...(first === undefined ? {} : { ipv4: ipv4Of(first) }),
      ...(deviceStats === undefined ? {} : { stats: deviceStats }),
    }
  })
}

/** Interfaces from `ip -j addr show` and statistics from statsFromIpLink. */
export const interfacesFromIp = (addrJson: string, stats: ReadonlyMap<string, DeviceStats>): EraInterface[] =>
  (JSON.parse(addrJson) as IpLink[]).flatMap((link) => interfacesOfLink(link, stats))

const destinationOf = (dst: string): { destination: number; mask: number } => {
  if (dst === 'default') return { destination: 0, mask: 0 }
  const [address, bits] = dst.split('/')
  return { destination: addr(address), mask: bitsToMask(bits === undefined ? 32 : Number(bits)) }
}

const metricOf = (route: IpRoute, key: string): number => route.metrics?.find((m) => m[key] !== undefined)?.[key] ?? 0

/** The types /proc/net/route lists; unreachable and prohibit carry RTF_REJECT. */
const LISTED_TYPES = new Set([undefined, 'unicast', 'unreachable', 'prohibit', 'blackhole'])

/** fn_hash(): the 2.2 FIB's bucket for a key, 16 buckets a zone (1 for /0). */
const bucketOf = (route: EraRoute): number => {
  const bits = maskToBits(route.mask) ?? 0
  if (bits === 0) return 0
  let h = route.destination >>> (32 - bits)
  h ^= h >>> 20
  h ^= h >>> 10
  h ^= h >>> 5
  return h & 15
}

/**
 * 2.2's /proc/net/route order: zones from the longest prefix down, then
 * hash buckets, each kept sorted by key. Routes to the same prefix stay in
 * the order ip lists them (by metric, as the kernel keeps them).
 */
const in22Order = (routes: EraRoute[]): EraRoute[] =>
  routes
    .map((route, index) => ({ route, index }))
    .sort(
      (a, b) =>
        b.route.mask - a.route.mask || bucketOf(a.route) - bucketOf(b.route) || a.route.destination - b.route.destination || a.index - b.index,
    )
    .map(({ route }) => route)

/**
 * Routes as 2.2's /proc/net/route showed them: dead routes (no RTF_UP) are skipped
 * as route did, a multipath route shows its first hop, the MSS column is
 * the route's MTU (2.2's fib_mtu) and irtt is in 2.2 jiffies (HZ=100).
 */
export const routesFromIp = (json: string): EraRoute[] =>
  in22Order(
    (JSON.parse(json) as IpRoute[])
      .filter((route) => LISTED_TYPES.has(route.type) && !(route.flags ?? []).includes('dead'))
      .map((route) => {
        const hop = route.nexthops?.[0] ?? route
        return {
          ...destinationOf(route.dst),
          gateway: addr(hop.gateway),
          reject: route.type === 'unreachable' || route.type === 'prohibit',
          metric: route.metric ?? 0,
          iface: hop.dev ?? '*',
          mtu: metricOf(route, 'mtu'),
          window: metricOf(route, 'window'),
          irtt: Math.floor(metricOf(route, 'rtt') / 10),
        }
      }),
  )
