// The network interfaces of the current namespace and their IPv4 addresses,
// from `ip -j addr show`: the primary address of each (Linux 2.0's
// dev->pa_addr: the first address that is not a secondary one; 0 when there
// is none), every local address, and every interface with its addresses
// (what a sandbox mirrors).
import { spawnSync } from 'node:child_process'
import { dottedToAddr } from '../translate/common/inet.ts'

interface IpAddrInfo {
  readonly family?: string
  readonly local?: string
  readonly prefixlen?: number
  readonly secondary?: boolean
}

interface IpLink {
  readonly ifname?: string
  readonly addr_info?: readonly IpAddrInfo[]
}

const ipv4 = (info: readonly IpAddrInfo[] | undefined): IpAddrInfo[] => (info ?? []).filter((a) => a.family === 'inet')

/** Interfaces and primary addresses from `ip -j addr show` output. */
export const primaryAddresses = (json: string): Map<string, number> =>
  new Map(
    (JSON.parse(json) as IpLink[]).flatMap((link) => {
      if (link.ifname === undefined) return []
      const primary = ipv4(link.addr_info).find((a) => !a.secondary)
      return [[link.ifname, dottedToAddr(primary?.local ?? '') ?? 0] as const]
    }),
  )

/** Every IPv4 address in `ip -j addr show` output. */
export const localAddresses = (json: string): number[] =>
  (JSON.parse(json) as IpLink[]).flatMap((link) =>
    ipv4(link.addr_info).flatMap((a) => {
      const addr = dottedToAddr(a.local ?? '')
      return addr === undefined ? [] : [addr]
    }),
  )

/** An interface and one IPv4 address of it as ADDR/LEN ('' when it has none). */
export interface Interface {
  readonly name: string
  readonly cidr: string
}

/** Every interface but lo from `ip -j addr show` output, once per IPv4 address, or once with cidr '' when it has none. */
export const interfaceAddresses = (json: string): Interface[] =>
  (JSON.parse(json) as IpLink[]).flatMap((link) => {
    const name = link.ifname
    if (name === undefined || name === 'lo') return []
    const info = ipv4(link.addr_info)
    return info.length ? info.map((a) => ({ name, cidr: `${a.local}/${a.prefixlen}` })) : [{ name, cidr: '' }]
  })

/** `ip -j addr show` in this namespace (undefined when it fails): what every reader of addresses parses. */
export const ipAddrShow = (): string | undefined => {
  const result = spawnSync('ip', ['-j', 'addr', 'show'], { encoding: 'utf8' })
  return result.status === 0 ? result.stdout : undefined
}

export const readInterfaces = (): Map<string, number> => {
  const json = ipAddrShow()
  return json === undefined ? new Map() : primaryAddresses(json)
}

export const readLocalAddresses = (): number[] => {
  const json = ipAddrShow()
  return json === undefined ? [] : localAddresses(json)
}

export const readInterfaceAddresses = (): Interface[] => {
  const json = ipAddrShow()
  return json === undefined ? [] : interfaceAddresses(json)
}
