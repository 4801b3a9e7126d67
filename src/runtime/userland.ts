// What the 2.2-era userland (ifconfig, route, netstat -r) reads from the
// kernel and how it changes it, through modern `ip`: the interfaces and the
// main routing table as `ip -j` reports them (parsed by translate/era), and
// `ip` commands run for the configuring forms. Works without net-tools.
import { spawnSync } from 'node:child_process'
import { interfacesFromIp, routesFromIp, statsFromIpLink } from '../translate/era/ip-json.ts'
import type { EraInterface, EraRoute } from '../translate/era/model.ts'

export interface IpResult {
  readonly status: number
  readonly stderr: string
}

const ip = (args: readonly string[]): { status: number; stdout: string; stderr: string } => {
  const r = spawnSync('ip', args, { encoding: 'utf8' })
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.error ? `ip: ${r.error.message}\n` : (r.stderr ?? '') }
}

/** The network's interfaces as SIOCGIF* and /proc/net/dev showed them. */
export const readEraInterfaces = (): EraInterface[] =>
  interfacesFromIp(ip(['-j', 'addr', 'show']).stdout || '[]', statsFromIpLink(ip(['-j', '-s', '-s', 'link', 'show']).stdout || '[]'))

/** The main routing table as /proc/net/route showed it. */
export const readEraRoutes = (): EraRoute[] => routesFromIp(ip(['-j', 'route', 'show', 'table', 'main']).stdout || '[]')

/** Runs one `ip` command (argv without the leading "ip"). */
export const runIp = (args: readonly string[]): IpResult => {
  const r = ip(args)
  return { status: r.status, stderr: r.stderr }
}

/** The world of the era commands: what they read and how they act (tests give their own). */
export interface Userland {
  readonly interfaces: () => EraInterface[]
  readonly routes: () => EraRoute[]
  readonly ip: (args: readonly string[]) => IpResult
}

export const realUserland: Userland = { interfaces: readEraInterfaces, routes: readEraRoutes, ip: runIp }
