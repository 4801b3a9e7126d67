// The 2.2-era userland a firewall script reads its addresses from and sets
// its interfaces and routes with: `ifconfig`, `route` and `netstat -r` as
// net-tools 1.54 printed and behaved (src/translate/era), on the interfaces
// and routes of the network the script runs in (the sandbox's, in
// translate), read and changed through `ip` (runtime/userland.ts). They own
// no table: the registry lists them as userland commands.
import { resolveHosts } from '../translate/common/listnames.ts'
import { inetAton } from '../translate/common/inet.ts'
import { formatInterfaces, showInterface } from '../translate/era/ifconfig.ts'
import { ifconfigEdit } from '../translate/era/ifconfig-set.ts'
import type { EraRoute } from '../translate/era/model.ts'
import { type RouteTableStyle, formatRouteTable } from '../translate/era/route.ts'
import { type RouteEdit, routeEdit, routeKernelError } from '../translate/era/route-set.ts'
import { IFCONFIG_USAGE, ROUTE_USAGE } from '../translate/era/usage.ts'
import type { Sys } from '../runtime/sys.ts'
import { type Userland, realUserland } from '../runtime/userland.ts'
import { print } from './output.ts'

/** A command of the era userland: argv after the name, the script's streams, the network it acts on. */
export type UserlandMain = (args: readonly string[], sys: Sys, userland?: Userland) => Promise<number>

const E_USAGE = 4

/** What `ip` said, as the ioctl ifconfig made would have failed. */
const ifconfigIpError = (argv: readonly string[], stderr: string): string => {
  const reason = /RTNETLINK answers: (.*)/.exec(stderr)?.[1] ?? (/Cannot find device/.test(stderr) ? 'No such device' : 'Invalid argument')
  const call = argv[1] === 'addr' ? (argv[2] === 'add' ? 'SIOCSIFADDR' : 'SIOCDIFADDR') : 'SIOCSIFFLAGS'
  return `${call}: ${reason}\n`
}

/** ifconfig.c main(): options, then list all, show one, or configure one. */
export const ifconfigMain: UserlandMain = async (args, sys, userland = realUserland) => {
  let all = false
  let rest = [...args]
  while (rest[0]?.startsWith('-')) {
    const option = rest[0]
    if (option === '-a') all = true
    if (option === '-?' || option === '-h' || option === '--help') return print(sys, { stdout: '', stderr: IFCONFIG_USAGE, status: E_USAGE })
    if (option === '-V' || option === '--version')
      return print(sys, { stdout: 'net-tools 1.54\nifconfig 1.39 (1999-03-18)\n', stderr: '', status: E_USAGE })
    rest = rest.slice(1)
  }
  const ifaces = userland.interfaces()
  const [name, ...words] = rest
  if (name === undefined) return print(sys, { stdout: formatInterfaces(ifaces, all), stderr: '', status: 0 })
  if (words.length === 0) return print(sys, showInterface(ifaces, name))
  const edit = ifconfigEdit(ifaces, name, words[0] === 'inet' ? words.slice(1) : words)
  let stderr = edit.stderr
  let status = edit.status
  for (const argv of edit.ip) {
    const r = userland.ip(argv.slice(1))
    if (r.status !== 0) {
      stderr += ifconfigIpError(argv, r.stderr)
      status = 1
    }
  }
  return print(sys, { stdout: '', stderr, status })
}

/** The routing table; names looked up unless numeric. */
const routeListing = async (sys: Sys, routes: readonly EraRoute[], style: RouteTableStyle, numeric: boolean): Promise<string> => {
  if (numeric) return formatRouteTable(routes, style)
  const names = await resolveHosts(
    sys.names(),
    routes.flatMap((r) => [r.destination, r.gateway]),
  )
  return formatRouteTable(routes, style, names)
}

/** Host and network names a `route add|del` may use, looked up before the pure parser runs. */
const routeLookup = async (sys: Sys, words: readonly string[]) => {
  const hosts = new Map<string, number | undefined>()
  for (const word of words) {
    const name = word.split('/')[0] ?? word
    if (name !== '' && inetAton(name) === undefined && /^[A-Za-z]/.test(name)) hosts.set(name, (await sys.names().hostAddrs(name))?.[0])
  }
  return { netNumber: (name: string) => sys.names().netNumber(name), hostAddr: (name: string) => hosts.get(name) }
}

const routeOutcome = (edit: RouteEdit, action: 'add' | 'del', userland: Userland): { stderr: string; status: number } => {
  if (!edit.ok) return edit
  const r = userland.ip(edit.ip.slice(1))
  if (r.status === 0) return { stderr: '', status: 0 }
  const refused = routeKernelError(action, r.stderr)
  return refused.ok ? { stderr: '', status: 0 } : refused
}

/** route.c main(): list the FIB, or add/del one route. */
export const routeMain: UserlandMain = async (args, sys, userland = realUserland) => {
  let numeric = false
  let extend = 0
  let rest = [...args]
  const usage = () => print(sys, { stdout: '', stderr: ROUTE_USAGE, status: E_USAGE })
  while (rest[0]?.startsWith('-') && rest[0] !== '-net' && rest[0] !== '-host') {
    const option = rest[0]
    rest = rest.slice(1)
    if (option === '--numeric') numeric = true
    else if (option === '--extend') extend++
    else if (option === '-A' || option === '--inet' || option === '-4') {
      if (option === '-A' && rest.shift() !== 'inet') return usage()
    } else if (/^-[neFvN]+$/.test(option)) {
      numeric ||= option.includes('n')
      extend += option.split('e').length - 1
    } else return usage()
  }
  const [action, ...words] = rest
  if (action === undefined)
    return print(sys, { stdout: await routeListing(sys, userland.routes(), extend ? 'netstat' : 'route', numeric), stderr: '', status: 0 })
  if (action !== 'add' && action !== 'del') return usage()
  const outcome = routeOutcome(routeEdit(action, words, await routeLookup(sys, words)), action, userland)
  return print(sys, { stdout: '', ...outcome })
}

/** `netstat -r[n][e]`: the routing table (netstat swaps route's -e levels); other listings are not provided. */
export const netstatMain: UserlandMain = async (args, sys, userland = realUserland) => {
  const letters = args.every((a) => /^-[rnev4]+$/.test(a) || a === '--route' || a === '--numeric') ? args.join('') : ''
  // Other listings are the system's netstat when there is one (run), else missing (translate's sandbox, no net-tools).
  if (!letters.includes('r') && !args.includes('--route'))
    return print(
      sys,
      userland.real('netstat', args) ?? { stdout: '', stderr: `${sys.program}: only \`netstat -r [-n]\` is provided by legacyfw\n`, status: 127 },
    )
  const numeric = letters.includes('n') || args.includes('--numeric')
  return print(sys, {
    stdout: await routeListing(sys, userland.routes(), letters.includes('e') ? 'route' : 'netstat', numeric),
    stderr: '',
    status: 0,
  })
}
