// net-tools 1.54 routing-table listings: `route [-n]` (ext 1) and
// `netstat -r[n]` (ext 2), from lib/inet_gr.c rprint_fib().
import { addrToDotted } from '../common/inet.ts'
import type { ListNames } from '../common/listnames.ts'
import { pad } from '../common/printf.ts'
import type { EraRoute } from './model.ts'

/** `route` prints Metric/Ref/Use; `netstat -r` prints MSS/Window/irtt. */
export type RouteTableStyle = 'route' | 'netstat'

/** The lookups of the listings without -n; unknown addresses print numerically. */
export type RouteNames = Pick<ListNames, 'host' | 'net'>

const HEADERS: Record<RouteTableStyle, string> = {
  route: 'Destination     Gateway         Genmask         Flags Metric Ref    Use Iface\n',
  netstat: 'Destination     Gateway         Genmask         Flags   MSS Window  irtt Iface\n',
}

/**
 * INET_rresolve(): 0.0.0.0 is "default" as a destination and "*" as a
 * gateway unless numeric; an address with bits outside the mask is looked up
 * as a host (gethostbyaddr), else as a network (getnetbyaddr).
 */
const addressName = (addr: number, mask: number, zeroName: string, names: RouteNames | undefined): string => {
  if (names === undefined) return addrToDotted(addr)
  if (addr === 0) return zeroName
  const name = (addr & ~mask) !== 0 ? names.host(addr) : names.net(addr)
  return name ?? addrToDotted(addr)
}

/**
 * INET_sprint() tests gateways against the host-order constant 0xffffff00
 * applied to a network-order address: on i386 that leaves the first octet,
 * so every real gateway is looked up as a host.
 */
const GATEWAY_MASK = 0x00ffffff

/** The Flags column: U, G, H; "!" replaces U and G on reject routes. */
const flagsText = (route: EraRoute): string => {
  const host = route.mask === 0xffffffff ? 'H' : ''
  if (route.reject) return `!${host}`
  return `U${route.gateway === 0 ? '' : 'G'}${host}`
}

const routeLine = (route: EraRoute, style: RouteTableStyle, names: RouteNames | undefined): string => {
  const destination = pad(addressName(route.destination, route.mask, 'default', names).slice(0, 15), -15)
  const gateway = pad(addressName(route.gateway, GATEWAY_MASK, '*', names).slice(0, 15), -15)
  const genmask = pad(addrToDotted(route.mask), -15)
  const flags = pad(flagsText(route), -5)
  if (style === 'route') {
    if (route.reject) return `${destination} -               ${genmask} ${flags} ${pad(String(route.metric), -6)} -  ${pad('0', 7)} -\n`
    return `${destination} ${gateway} ${genmask} ${flags} ${pad(String(route.metric), -6)} ${pad('0', -2)} ${pad('0', 7)} ${route.iface}\n`
  }
  if (route.reject) return `${destination} -               ${genmask} ${flags}     - -          - -\n`
  return `${destination} ${gateway} ${genmask} ${flags} ${pad(String(route.mtu), 5)} ${pad(String(route.window), -5)} ${pad(String(route.irtt), 6)} ${route.iface}\n`
}

/**
 * The whole listing. `names` undefined is -n; the 2.2 kernel reports Ref
 * and Use as 0 for every FIB entry.
 */
export const formatRouteTable = (routes: readonly EraRoute[], style: RouteTableStyle, names?: RouteNames): string =>
  `Kernel IP routing table\n${HEADERS[style]}${routes.map((route) => routeLine(route, style, names)).join('')}`
