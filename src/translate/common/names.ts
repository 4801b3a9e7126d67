// Name lookups the legacy tools made through libc (getservbyname, getprotobyname,
// getnetbyname, gethostbyname and their reverse forms), answered from the
// text of /etc/services, /etc/protocols, /etc/networks and /etc/hosts, plus
// an injected DNS port for what the files do not know.
import { strtoul } from './cnum.ts'
import { inetAton, u32 } from './inet.ts'

export type ServiceProto = 'tcp' | 'udp'

export interface Names {
  /** gethostbyname(): every IPv4 address, or undefined when unknown. */
  hostAddrs(name: string): Promise<number[] | undefined>
  /** gethostbyaddr(): the official host name, or undefined. */
  hostName(addr: number): Promise<string | undefined>
  /** getnetbyname(): the network number (n_net, host order, unshifted). */
  netNumber(name: string): number | undefined
  /** getnetbyaddr() */
  netName(net: number): string | undefined
  servicePort(name: string, proto: ServiceProto): number | undefined
  serviceName(port: number, proto: ServiceProto): string | undefined
  protoNumber(name: string): number | undefined
  protoName(proto: number): string | undefined
}

/** What the real resolver adds beyond the files: DNS. */
export interface Dns {
  lookup(name: string): Promise<number[] | undefined>
  reverse(addr: number): Promise<string | undefined>
}

/** The /etc files, read only when a lookup needs them. */
export interface EtcTexts {
  readonly services: () => string
  readonly protocols: () => string
  readonly networks: () => string
  readonly hosts: () => string
}

const lazy = <T>(make: () => T): (() => T) => {
  let value: T | undefined
  return () => (value ??= make())
}

const fieldsOf = (text: string): string[][] =>
  text
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line !== '')
    .map((line) => line.split(/\s+/))

/** inet_network(): like inet_aton but the parts are right-aligned. */
export const inetNetwork = (text: string): number | undefined => {
  const parts = text.split('.')
  if (parts.length > 4 || parts.some((p) => p === '')) return undefined
  let value = 0
  for (const part of parts) {
    const scan = strtoul(part, 0)
    if (scan.end !== part.length || scan.value > 255) return undefined
    value = value * 256 + scan.value
  }
  return u32(value)
}

interface Service {
  readonly names: readonly string[]
  readonly port: number
  readonly proto: string
}

const parseServices = (text: string): Service[] =>
  fieldsOf(text).flatMap(([name, portProto, ...aliases]) => {
    const [port, proto] = (portProto ?? '').split('/')
    const number = Number(port)
    if (!name || !proto || !Number.isInteger(number)) return []
    return [{ names: [name, ...aliases], port: number, proto }]
  })

interface Entry {
  readonly names: readonly string[]
  readonly value: number
}

const parseNumbered = (text: string, nameFirst: boolean, parse: (s: string) => number | undefined): Entry[] =>
  fieldsOf(text).flatMap((fields) => {
    const [a, b, ...rest] = fields
    const [names, valueText] = nameFirst ? [[a ?? '', ...rest], b ?? ''] : [[b ?? '', ...rest], a ?? '']
    const value = parse(valueText)
    return value === undefined || names[0] === '' ? [] : [{ names, value }]
  })

const decimal = (s: string): number | undefined => (/^\d+$/.test(s) ? Number(s) : undefined)

/** Names answered from /etc files first, then DNS (as nsswitch "files dns"). */
export const etcNames = (texts: EtcTexts, dns?: Dns): Names => {
  const services = lazy(() => parseServices(texts.services()))
  const protocols = lazy(() => parseNumbered(texts.protocols(), true, decimal))
  const networks = lazy(() => parseNumbered(texts.networks(), true, inetNetwork))
  const hosts = lazy(() => parseNumbered(texts.hosts(), false, (s) => (/^[0-9.]+$/.test(s) ? inetAton(s) : undefined)))
  return {
    async hostAddrs(name) {
      const numeric = inetAton(name)
      if (numeric !== undefined) return [numeric]
      const fromFile = hosts()
        .filter((h) => h.names.includes(name))
        .map((h) => h.value)
      if (fromFile.length > 0) return fromFile
      return dns?.lookup(name)
    },
    async hostName(addr) {
      const fromFile = hosts().find((h) => h.value === addr)
      if (fromFile) return fromFile.names[0]
      return dns?.reverse(addr)
    },
    netNumber: (name) => networks().find((n) => n.names.includes(name))?.value,
    netName: (net) => networks().find((n) => n.value === net)?.names[0],
    servicePort: (name, proto) => services().find((s) => s.proto === proto && s.names.includes(name))?.port,
    serviceName: (port, proto) => services().find((s) => s.proto === proto && s.port === port)?.names[0],
    protoNumber: (name) => protocols().find((p) => p.names.includes(name))?.value,
    protoName: (proto) => protocols().find((p) => p.value === proto)?.names[0],
  }
}
