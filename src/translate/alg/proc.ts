// /proc/net/ip_masq/app (2.2) and /proc/net/ip_masq_app (2.0): one line
// per registered helper port with the number of masquerade entries bound
// to it (spec alg-modules.md §0):
//   header "prot port    n_attach name" and lines "%-3s  %-7u %-7d  %-17s",
//   each padded to 39 characters.
// Ports are listed in load order (the kernel's hash order is not known:
// docs/decisions.md). A connection is bound as 2.2 bound it: outbound to
// one of the ports, or forwarded to one of the in_ports; for the kernel's
// helpers only a connection the helper was assigned to counts.
import type { MasqConnection } from '../common/masq.ts'
import { pad } from '../common/printf.ts'
import type { AppName, LoadedApp } from './model.ts'

type Kernel = '2.0' | '2.2'

const PROTO: Readonly<Record<AppName, 'TCP' | 'UDP'>> = {
  ftp: 'TCP',
  irc: 'TCP',
  sip: 'UDP',
  cuseeme: 'UDP',
  vdolive: 'TCP',
  quake: 'UDP',
  raudio: 'TCP',
}

/** The kernel helper whose name conntrack shows on the connections an app is bound to (undefined: nft rules). */
const KERNEL_HELPER: Partial<Readonly<Record<AppName, string>>> = { ftp: 'ftp', irc: 'irc', sip: 'sip' }

const nameOf = (app: AppName, port: number, kernel: Kernel): string => {
  if (app === 'quake') return kernel === '2.2' && (port === 26000 || port === 27000) ? `Quake_${String(port).slice(0, 2)}` : 'Quake'
  return { ftp: 'ftp', irc: 'irc', sip: 'sip', cuseeme: 'cuseeme', vdolive: 'VDOlive', raudio: 'RealAudio' }[app]
}

interface Registration {
  readonly app: AppName
  readonly port: number
  readonly inbound: boolean
}

const registrations = (apps: readonly LoadedApp[]): Registration[] => {
  const seen = new Set<string>()
  return apps.flatMap((a) =>
    [...a.ports.map((port) => ({ app: a.app, port, inbound: false })), ...a.inPorts.map((port) => ({ app: a.app, port, inbound: true }))].filter(
      (r) => {
        const key = `${r.app} ${r.port} ${r.inbound}`
        return !seen.has(key) && seen.add(key)
      },
    ),
  )
}

const bound = (r: Registration, c: MasqConnection): boolean => {
  if (c.entry.proto !== PROTO[r.app]) return false
  const helper = KERNEL_HELPER[r.app]
  if (helper !== undefined && c.helper !== helper) return false
  return r.inbound ? c.kind === 'forwarded' && c.entry.mport === r.port : c.kind === 'outgoing' && c.entry.dport === r.port
}

const line = (text: string): string => `${pad(text, -39)}\n`

/** The file for the loaded modules, given the masquerade entries of the conntrack table. */
export const appProc = (apps: readonly LoadedApp[], connections: readonly MasqConnection[], kernel: Kernel): string =>
  line('prot port    n_attach name') +
  registrations(apps)
    .map((r) =>
      line(
        `${pad(PROTO[r.app], -3)}  ${pad(String(r.port), -7)} ${pad(String(connections.filter((c) => bound(r, c)).length), -7)}  ${pad(nameOf(r.app, r.port, kernel), -17)}`,
      ),
    )
    .join('')
