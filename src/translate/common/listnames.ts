// Synchronous name lookups for listings. Host names need DNS, so the CLI
// resolves every address a listing will show first (resolveHosts) and the
// formatters then read from the table.
import { addrToDotted } from './inet.ts'
import type { Names, ServiceProto } from './names.ts'

export interface ListNames {
  host(addr: number): string | undefined
  net(addr: number): string | undefined
  service(port: number, proto: ServiceProto): string | undefined
  proto(proto: number): string | undefined
}

export const resolveHosts = async (names: Names, addrs: Iterable<number>): Promise<ListNames> => {
  const hosts = new Map<number, string | undefined>()
  for (const addr of new Set(addrs)) hosts.set(addr, await names.hostName(addr))
  return {
    host: (addr) => hosts.get(addr),
    net: (addr) => names.netName(addr),
    service: (port, proto) => names.serviceName(port, proto),
    proto: (proto) => names.protoName(proto),
  }
}

/** addr_to_anyname(): host name, else network name, else dotted quad. */
export const anyName = (names: ListNames, addr: number): string => names.host(addr) ?? names.net(addr) ?? addrToDotted(addr)
