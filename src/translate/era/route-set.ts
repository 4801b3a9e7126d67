// `route add|del ...` as net-tools 1.54 parsed it (lib/inet_sr.c
// INET_setroute) and the 2.2 kernel accepted it (fib_convert_rtentry),
// mapped to the `ip route` command that makes the same FIB entry.
import { addrToDotted, bitsToMask, inetAton, maskToBits } from '../common/inet.ts'
import { INET_ROUTE_USAGE, ROUTE_USAGE } from './usage.ts'

/** getnetbyname()/gethostbyname(), for targets that are not numbers. */
export interface RouteLookup {
  netNumber(name: string): number | undefined
  hostAddr(name: string): number | undefined
}

/** The `ip` argv to run, or what route printed and its exit status. */
export type RouteEdit =
  { readonly ok: true; readonly ip: readonly string[] } | { readonly ok: false; readonly stderr: string; readonly status: number }

const E_USAGE = 4
const E_LOOKUP = 6
const E_SOCK = 7

const fail = (stderr: string, status: number): RouteEdit => ({ ok: false, stderr, status })
const usage = (): RouteEdit => fail(INET_ROUTE_USAGE, E_USAGE)
/** route.c's E_OPTERR (3): main() prints its own usage and exits E_USAGE. */
const optErr = (message: string): RouteEdit => fail(message + ROUTE_USAGE, E_USAGE)

/** INET_resolve(): the address and whether it names a network. */
const resolve = (name: string, lookup: RouteLookup | undefined): { addr: number; isNet: boolean } | undefined => {
  if (name === 'default') return { addr: 0, isNet: true }
  const numeric = inetAton(name)
  if (numeric !== undefined) return { addr: numeric, isNet: false }
  const net = lookup?.netNumber(name)
  if (net !== undefined) return { addr: net, isNet: true }
  const host = lookup?.hostAddr(name)
  return host === undefined ? undefined : { addr: host, isNet: false }
}

/** herror() for a failed lookup. */
const unknownHost = (name: string): string => `${name}: Unknown host\n`

interface RouteSpec {
  target: number
  isNet: boolean
  mask?: number
  maskText: string
  gateway?: string
  metric?: string
  mss?: string
  window?: string
  irtt?: string
  reject: boolean
  dev?: string
}

/** The options after the target, in INET_setroute()'s order of checks. */
const parseOptions = (spec: RouteSpec, args: readonly string[], lookup: RouteLookup | undefined): RouteEdit | undefined => {
  for (let i = 0; i < args.length; i++) {
    const word = args[i] ?? ''
    const value = args[i + 1]
    switch (word) {
      case 'metric':
        if (value === undefined || !/^\d/.test(value)) return usage()
        spec.metric = String(parseInt(value, 10))
        i++
        continue
      case 'netmask': {
        if (value === undefined || spec.mask) return usage()
        const mask = resolve(value, lookup)
        if (mask === undefined) return fail(unknownHost(value), E_LOOKUP)
        spec.mask = mask.addr
        spec.maskText = value
        i++
        continue
      }
      case 'gw':
      case 'gateway': {
        if (value === undefined || spec.gateway !== undefined) return usage()
        const gateway = resolve(value, lookup)
        if (gateway === undefined) return fail(unknownHost(value), E_LOOKUP)
        if (gateway.isNet) return optErr(`route: ${value}: cannot use a NETWORK as gateway!\n`)
        spec.gateway = addrToDotted(gateway.addr)
        i++
        continue
      }
      case 'mss':
        if (value === undefined) return usage()
        if (!(parseInt(value, 10) >= 64 && parseInt(value, 10) <= 32768)) return optErr('route: Invalid MSS.\n')
        spec.mss = String(parseInt(value, 10))
        i++
        continue
      case 'window':
        if (value === undefined) return usage()
        if (!(parseInt(value, 10) >= 128)) return optErr('route: Invalid window.\n')
        spec.window = String(parseInt(value, 10))
        i++
        continue
      case 'irtt':
        if (value === undefined) return usage()
        spec.irtt = String(parseInt(value, 10) || 0)
        i++
        continue
      case 'reject':
        spec.reject = true
        continue
      // Redirect bookkeeping flags: the 2.2 FIB ignored them.
      case 'mod':
      case 'dyn':
      case 'reinstate':
        continue
      case 'dev':
      case 'device':
        if (spec.dev !== undefined || value === undefined) return usage()
        spec.dev = value
        i++
        continue
      default:
        // A bare word is the device, and must be the last word.
        if (spec.dev !== undefined || i !== args.length - 1) return usage()
        spec.dev = word
    }
  }
  return undefined
}

/** The sanity checks INET_setroute() makes before the ioctl. */
const checkMask = (spec: RouteSpec): RouteEdit | undefined => {
  if (!spec.mask) return undefined
  const inverted = ~spec.mask >>> 0
  if (!spec.isNet && inverted !== 0) {
    return optErr(`route: netmask ${inverted.toString(16).padStart(8, '0')} doesn't make sense with host route\n`)
  }
  if ((inverted & (inverted + 1)) !== 0) return optErr(`route: bogus netmask ${spec.maskText}\n`)
  if ((spec.target & ~spec.mask) !== 0) return optErr("route: netmask doesn't match route address\n")
  return undefined
}

const ipRoute = (action: 'add' | 'del', spec: RouteSpec): RouteEdit => {
  const bits = spec.isNet ? (maskToBits(spec.mask ?? 0) ?? 0) : 32
  // 2.2 takes a missing netmask as /0, which no address with bits set fits.
  if ((spec.target & ~(spec.mask ?? (spec.isNet ? 0 : 0xffffffff))) !== 0) {
    return fail(`${action === 'add' ? 'SIOCADDRT' : 'SIOCDELRT'}: Invalid argument\n`, E_SOCK)
  }
  const ip = ['ip', 'route', action]
  if (spec.reject) ip.push('unreachable')
  ip.push(`${addrToDotted(spec.target)}/${bits}`)
  // The kernel took rt_metric - 1, and route passed metric + 1.
  if (spec.metric !== undefined) ip.push('metric', spec.metric)
  if (!spec.reject) {
    if (spec.gateway !== undefined) ip.push('via', spec.gateway)
    if (spec.dev !== undefined) ip.push('dev', spec.dev)
  }
  // RTF_MSS set the route MTU in 2.2; irtt was in milliseconds.
  if (spec.mss !== undefined) ip.push('mtu', spec.mss)
  if (spec.window !== undefined) ip.push('window', spec.window)
  if (spec.irtt !== undefined) ip.push('rtt', `${spec.irtt}ms`)
  return { ok: true, ip }
}

/** `route add|del ARGS` (argv after the action word, as INET_rinput got it). */
export const routeEdit = (action: 'add' | 'del', args: readonly string[], lookup?: RouteLookup): RouteEdit => {
  let rest = args
  let forced: boolean | undefined
  if (rest[0] === '-net' || rest[0] === '-host') {
    forced = rest[0] === '-net'
    rest = rest.slice(1)
  }
  const [targetText, ...options] = rest
  if (targetText === undefined) return usage()
  const slash = targetText.indexOf('/')
  const name = slash < 0 ? targetText : targetText.slice(0, slash)
  let prefixMask: number | undefined
  if (slash >= 0) {
    const bits = targetText.slice(slash + 1)
    if (!/^\d+$/.test(bits)) return usage()
    prefixMask = bitsToMask(Math.min(32, Number(bits)))
  }
  const target = resolve(name, lookup)
  if (target === undefined) return fail(unknownHost(name), 1)
  const spec: RouteSpec = {
    target: target.addr,
    isNet: forced ?? target.isNet,
    maskText: slash < 0 ? 'default' : `/${Number(targetText.slice(slash + 1))}`,
    reject: false,
    ...(prefixMask === undefined ? {} : { mask: prefixMask }),
  }
  return parseOptions(spec, options, lookup) ?? checkMask(spec) ?? ipRoute(action, spec)
}

/**
 * What route printed when the kernel refused the request, from `ip route`'s
 * stderr: "SIOCADDRT: <strerror>" or "SIOCDELRT: ...", exit 7. Scripts match
 * these texts (FreeS/WAN's _updown treats "SIOCDELRT: No such process" as
 * "no such route").
 */
export const routeKernelError = (action: 'add' | 'del', ipStderr: string): RouteEdit => {
  const call = action === 'add' ? 'SIOCADDRT' : 'SIOCDELRT'
  const netlink = /RTNETLINK answers: (.*)/.exec(ipStderr)?.[1]
  const reason =
    netlink ??
    (/Cannot find device/.test(ipStderr)
      ? 'No such device'
      : /Nexthop has invalid gateway/.test(ipStderr)
        ? 'Network is unreachable'
        : 'Invalid argument')
  return fail(`${call}: ${reason}\n`, E_SOCK)
}
