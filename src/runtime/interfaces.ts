// The network interfaces of the current namespace and the primary IPv4
// address of each (Linux 2.0's dev->pa_addr: the first address that is not
// a secondary one; 0 when there is none).
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

/** Interfaces and primary addresses from `ip -j addr show` output. */
export const primaryAddresses = (json: string): Map<string, number> => {
  const links = JSON.parse(json) as IpLink[]
  return new Map(
    links.flatMap((link) => {
      if (link.ifname === undefined) return []
      const primary = link.addr_info?.find((a) => a.family === 'inet' && !a.secondary)
      return [[link.ifname, dottedToAddr(primary?.local ?? '') ?? 0] as const]
    }),
  )
}

export const readInterfaces = (): Map<string, number> => {
  const result = spawnSync('ip', ['-j', 'addr', 'show'], { encoding: 'utf8' })
  return result.status === 0 ? primaryAddresses(result.stdout) : new Map()
}
