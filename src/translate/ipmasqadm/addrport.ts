// parse_addressport() of ipmasqadm's library: an address (inet_aton, else
// gethostbyname unless -n came earlier) and, in the next word, an optional
// port (leading decimal digits, else a tcp/udp service name unless -n).
import { strtoul } from '../common/cnum.ts'
import { inetAton } from '../common/inet.ts'
import type { Names } from '../common/names.ts'
import { unknownHost } from './messages.ts'

export interface AddrPort {
  /** 2: address and port, 1: address only, -1: bad address. */
  readonly used: 2 | 1 | -1
  readonly addr: number
  readonly port: number
  /** What herror() printed. */
  readonly stderr: string
}

export const parseAddressPort = async (words: readonly string[], noLookup: boolean, names: Names): Promise<AddrPort> => {
  const [addrWord = '', portWord] = words
  let addr = inetAton(addrWord)
  if (addr === undefined) {
    if (noLookup) return { used: -1, addr: 0, port: 0, stderr: '' }
    addr = (await names.hostAddrs(addrWord))?.[0]
    if (addr === undefined) return { used: -1, addr: 0, port: 0, stderr: unknownHost(addrWord) }
  }
  if (portWord === undefined) return { used: 1, addr, port: 0, stderr: '' }
  const scan = strtoul(portWord, 10)
  // strtoul skips blanks and a sign; "digits were read" is what counts.
  if (scan.end > 0) return { used: 2, addr, port: scan.value & 0xffff, stderr: '' }
  if (noLookup) return { used: 1, addr, port: 0, stderr: '' }
  const port = names.servicePort(portWord, 'tcp') ?? names.servicePort(portWord, 'udp')
  return port === undefined ? { used: 1, addr, port: 0, stderr: '' } : { used: 2, addr, port, stderr: '' }
}
