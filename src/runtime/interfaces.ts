// The network interfaces of the current namespace and their IPv4 addresses,
// from `ip -j addr show`: the primary address of each (Linux 2.0's
// dev->pa_addr: the first address that is not a secondary one; 0 when there
// is none), and every local address.
import { spawnSync } from 'node:child_process'
import { dottedToAddr } from '../translate/common/inet.ts'

interface IpAddrInfo {
  readonly family?: string
  readonly local?: string
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

const ipAddrShow = (): string | undefined => {
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
