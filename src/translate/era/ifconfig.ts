// net-tools 1.54 `ifconfig` listings (ifconfig.c ife_print, lib/interface.c
// do_if_fetch): what 2.2-era scripts grep and cut. The interface order and
// the alias rules follow lib/interface.c (add_interface, lookup_interface).
import { addrToDotted } from '../common/inet.ts'
import { hex2, pad } from '../common/printf.ts'
import type { CommandOutput, EraInterface, Ipv4Address } from './model.ts'

/** nstrcmp(): strcmp that compares a run of digits as a number (eth2 < eth10). */
export const nstrcmp = (a: string, b: string): number => {
  let i = 0
  while (i < a.length && a[i] === b[i]) i++
  if (i === a.length && i === b.length) return 0
  const isDigit = (ch: string | undefined): boolean => ch !== undefined && ch >= '0' && ch <= '9'
  if (isDigit(a[i])) {
    if (!isDigit(b[i])) return -1
    let start = i
    while (start > 0 && isDigit(a[start - 1])) start--
    // atoi() of both tails from the start of the shared digit run.
    const atoi = (s: string): number => Number(/^\d*/.exec(s.slice(start))?.[0] || '0')
    return atoi(a) > atoi(b) ? 1 : -1
  }
  return (a.charCodeAt(i) || 0) - (b.charCodeAt(i) || 0)
}

/** The hardware title and address, as lib/hw.c prints them. */
const linkText = (iface: EraInterface): string => {
  switch (iface.linkType) {
    case 'ether':
      return `Link encap:Ethernet  HWaddr ${iface.hwAddress.slice(0, 6).map(hex2).join(':')}  `
    case 'loopback':
      return 'Link encap:Local Loopback  '
    case 'ppp':
      return 'Link encap:Point-to-Point Protocol  '
    case 'other': {
      // pr_unspec(): all 16 bytes of sa_data, of which SIOCGIFHWADDR filled 8.
      const bytes = Array.from({ length: 16 }, (_, i) => (i < 8 ? (iface.hwAddress[i] ?? 0) : 0))
      return `Link encap:UNSPEC  HWaddr ${bytes.map(hex2).join('-')}  `
    }
  }
}

const inetLine = (iface: EraInterface, ipv4: Ipv4Address): string => {
  let line = `          inet addr:${addrToDotted(ipv4.local)} `
  if (iface.flags.includes('POINTOPOINT')) line += ` P-t-P:${addrToDotted(ipv4.peer)} `
  if (iface.flags.includes('BROADCAST')) line += ` Bcast:${addrToDotted(ipv4.broadcast)} `
  return `${line} Mask:${addrToDotted(ipv4.mask)}\n`
}

const flagsLine = (iface: EraInterface): string => {
  const flags = iface.flags.length === 0 ? '[NO FLAGS] ' : iface.flags.map((flag) => `${flag} `).join('')
  return `          ${flags} MTU:${iface.mtu}  Metric:${iface.metric || 1}\n`
}

const statsLines = (iface: EraInterface): string => {
  const s = iface.stats
  if (s === undefined) return ''
  return (
    `          RX packets:${s.rxPackets} errors:${s.rxErrors} dropped:${s.rxDropped} overruns:${s.rxOverruns} frame:${s.rxFrame}\n` +
    `          TX packets:${s.txPackets} errors:${s.txErrors} dropped:${s.txDropped} overruns:${s.txOverruns} carrier:${s.txCarrier}\n` +
    `          collisions:${s.collisions} txqueuelen:${iface.txQueueLength} \n`
  )
}

/** ife_print(): one interface's block, with its blank line. */
export const formatInterface = (iface: EraInterface): string =>
  `${pad(iface.name, -9, 9)} ${linkText(iface)}\n` +
  (iface.ipv4 === undefined ? '' : inetLine(iface, iface.ipv4)) +
  flagsLine(iface) +
  statsLines(iface) +
  '\n'

/** `ifconfig` (up interfaces) or `ifconfig -a` (all), in nstrcmp order. */
export const formatInterfaces = (ifaces: readonly EraInterface[], all: boolean): string =>
  [...ifaces]
    .sort((a, b) => nstrcmp(a.name, b.name))
    .filter((iface) => all || iface.flags.includes('UP'))
    .map(formatInterface)
    .join('')

/**
 * The interface `ifconfig NAME` fetches. An unknown alias of a known device
 * still answers: the 2.2 kernel strips ":N" for the link ioctls, and only the
 * address ioctls (and /proc/net/dev) miss.
 */
const lookupInterface = (ifaces: readonly EraInterface[], name: string): EraInterface | undefined => {
  const exact = ifaces.find((iface) => iface.name === name)
  if (exact !== undefined) return exact
  const colon = name.indexOf(':')
  if (colon < 0) return undefined
  const device = ifaces.find((iface) => iface.name === name.slice(0, colon))
  if (device === undefined) return undefined
  const { ipv4: _address, stats: _stats, ...link } = device
  return { ...link, name }
}

/** `ifconfig NAME`: its block, or do_if_fetch()'s error (ENODEV) and exit 1. */
export const showInterface = (ifaces: readonly EraInterface[], name: string): CommandOutput => {
  // The name goes through an IFNAMSIZ (16) buffer.
  const ifname = name.slice(0, 15)
  const iface = lookupInterface(ifaces, ifname)
  if (iface === undefined) {
    return { stdout: '', stderr: `${ifname}: error fetching interface information: Device not found\n`, status: 1 }
  }
  return { stdout: formatInterface(iface), stderr: '', status: 0 }
}
