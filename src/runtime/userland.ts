// What the 2.2-era userland (ifconfig, route, netstat -r) reads from the
// kernel and how it changes it, through modern `ip`: the interfaces and the
// main routing table as `ip -j` reports them (parsed by translate/era), and
// `ip` commands run for the configuring forms. Works without net-tools.
import { spawnSync } from 'node:child_process'
import { accessSync, closeSync, constants, openSync, readSync } from 'node:fs'
import { join } from 'node:path'
import { interfacesFromIp, routesFromIp, statsFromIpLink } from '../translate/era/ip-json.ts'
import type { EraInterface, EraRoute } from '../translate/era/model.ts'
import { ipAddrShow } from './interfaces.ts'

export interface IpResult {
  readonly status: number
  readonly stderr: string
}

const ip = (args: readonly string[]): { status: number; stdout: string; stderr: string } => {
  const r = spawnSync('ip', args, { encoding: 'utf8' })
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.error ? `ip: ${r.error.message}\n` : (r.stderr ?? '') }
}

/** Links named LFW_HIDDEN_LINKS followed by a number: the sandbox's own veth peers (sandbox.ts), not the script's. */
const hidden = (name: string): boolean => {
  const prefix = process.env['LFW_HIDDEN_LINKS']
  return prefix !== undefined && prefix !== '' && name.startsWith(prefix) && /^\d+(:|$)/.test(name.slice(prefix.length))
}

/** The network's interfaces as SIOCGIF* and /proc/net/dev showed them. */
const readEraInterfaces = (): EraInterface[] =>
  interfacesFromIp(ipAddrShow() ?? '[]', statsFromIpLink(ip(['-j', '-s', '-s', 'link', 'show']).stdout || '[]')).filter(
    (iface) => !hidden(iface.name),
  )

/** The main routing table as /proc/net/route showed it. */
const readEraRoutes = (): EraRoute[] => routesFromIp(ip(['-j', 'route', 'show', 'table', 'main']).stdout || '[]')

/** The world of the era commands: what they read and how they act (tests give their own). */
export interface Userland {
  readonly interfaces: () => EraInterface[]
  readonly routes: () => EraRoute[]
  readonly ip: (args: readonly string[]) => IpResult
  /** The system's own program (not a legacyfw stand-in), for what legacyfw does not provide; undefined when there is none. */
  readonly real: (name: string, args: readonly string[]) => { status: number; stdout: string; stderr: string } | undefined
}

export const realUserland: Userland = {
  interfaces: readEraInterfaces,
  routes: readEraRoutes,
  ip,
  real: (name, args) => runRealCommand(name, args),
}

/** A legacyfw stand-in (serve.ts shimScript): a bash program sourcing the run's env.bash. */
const isStandIn = (path: string): boolean => {
  try {
    const fd = openSync(path, 'r')
    try {
      const head = Buffer.alloc(512)
      const n = readSync(fd, head, 0, head.length, 0)
      return head.subarray(0, n).toString('latin1').includes('env.bash')
    } finally {
      closeSync(fd)
    }
  } catch {
    return false
  }
}

/** The system's own program `name` in PATH, skipping legacyfw's stand-ins (so a served command never calls itself). */
export const realCommand = (name: string): string | undefined => {
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    if (dir === '') continue
    const path = join(dir, name)
    try {
      accessSync(path, constants.X_OK)
    } catch {
      continue
    }
    if (!isStandIn(path)) return path
  }
  return undefined
}

/** Runs the system's own `name` (not a stand-in) with the call's arguments; undefined when there is none. */
export const runRealCommand = (name: string, args: readonly string[]): { status: number; stdout: string; stderr: string } | undefined => {
  const path = realCommand(name)
  if (path === undefined) return undefined
  const r = spawnSync(path, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' }
}
