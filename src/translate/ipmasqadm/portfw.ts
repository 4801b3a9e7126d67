// ipmasqadm portfw (portfw.c 1.6) and the 2.2 ip_masq_portfw table.
import { strtol } from '../common/cnum.ts'
import { Getopt } from '../common/getopt.ts'
import type { Names } from '../common/names.ts'
import { IPPROTO_TCP, IPPROTO_UDP } from '../ipautofw/model.ts'
import { parseAddressPort } from './addrport.ts'
import { ERROR, type Printed, exitError, helpExit, portfwHelp, refuseLeftovers } from './messages.ts'

export const PORTFW_DEFAULT_PREF = 10

export interface PortfwEntry {
  readonly protocol: number
  readonly laddr: number
  readonly lport: number
  readonly raddr: number
  readonly rport: number
  readonly pref: number
  /** Connections the entry still takes before the next one's turn. */
  readonly prefCnt: number
}

export type PortfwCommand = 'add' | 'delete' | 'flush' | 'list'

export interface PortfwRequest {
  readonly command: PortfwCommand
  readonly entry: PortfwEntry
  readonly numeric: boolean
  readonly printed: Printed
}

const NO_PROTO = 65535

export const parsePortfw = async (module: string, args: readonly string[], names: Names): Promise<PortfwRequest> => {
  const g = new Getopt(module, args, 'adflnP:R:L:p:h')
  const printed: Printed = { stdout: '', stderr: '' }
  let command: PortfwCommand | undefined
  let nonames = 0
  let protocol = NO_PROTO
  let pref = PORTFW_DEFAULT_PREF
  const local = { addr: 0, port: 0 }
  const redir = { addr: 0, port: 0 }
  const setCommand = (c: PortfwCommand): void => {
    if (command !== undefined) throw exitError(module, ERROR.multipleCommands, printed)
    command = c
  }
  const addressPort = async (into: { addr: number; port: number }, multiple: string, illegal: string): Promise<void> => {
    if (into.addr || into.port) throw exitError(module, multiple, printed)
    const at = g.optind - 1
    const parsed = await parseAddressPort(g.argv.slice(at, at + 2), nonames > 0, names)
    printed.stderr += parsed.stderr
    if (parsed.used !== 2) throw exitError(module, illegal, printed)
    into.addr = parsed.addr
    into.port = parsed.port
    g.optind += parsed.used - 1
  }
  for (;;) {
    const ev = g.next()
    if (ev.kind === 'end') break
    if (ev.kind === 'nonoption') continue
    if (ev.kind === 'error') {
      printed.stderr += ev.message
      throw helpExit(portfwHelp(module, PORTFW_DEFAULT_PREF), printed)
    }
    switch (ev.code) {
      case 'a':
        setCommand('add')
        break
      case 'd':
        setCommand('delete')
        break
      case 'f':
        setCommand('flush')
        break
      case 'l':
        setCommand('list')
        break
      case 'n':
        nonames++
        break
      case 'P':
        if (protocol !== NO_PROTO) throw exitError(module, ERROR.multipleProtocols, printed)
        if (ev.optarg?.[0] === 't') protocol = IPPROTO_TCP
        else if (ev.optarg?.[0] === 'u') protocol = IPPROTO_UDP
        else throw exitError(module, ERROR.invalidProtocol, printed)
        break
      case 'L':
        await addressPort(local, ERROR.multipleLocal, ERROR.illegalLocal)
        break
      case 'R':
        await addressPort(redir, ERROR.multipleDestinations, ERROR.illegalDestination)
        break
      case 'p':
        pref = atoi(ev.optarg ?? '')
        if (pref <= 0) throw exitError(module, ERROR.illegalPreference, printed)
        break
      default:
        throw helpExit(portfwHelp(module, PORTFW_DEFAULT_PREF), printed)
    }
  }
  refuseLeftovers(module, g, printed)
  if (command === undefined) throw helpExit(portfwHelp(module, PORTFW_DEFAULT_PREF), printed)
  if ((command === 'add' || command === 'delete') && (protocol === NO_PROTO || local.port === 0))
    throw exitError(module, ERROR.insufficientOptions, printed)
  if ((command === 'flush' || command === 'list') && (protocol !== NO_PROTO || local.port !== 0 || redir.port !== 0 || redir.addr !== 0))
    throw exitError(module, ERROR.incompatibleOptions, printed)
  const entry = { protocol, laddr: local.addr, lport: local.port, raddr: redir.addr, rport: redir.port, pref, prefCnt: pref }
  return { command, entry, numeric: nonames > 0, printed }
}

/** atoi() = (int) strtol(s, NULL, 10) with a 32-bit long. */
export const atoi = (text: string): number => strtol(text, 10).value

// ---------------------------------------------------------------------------
// The kernel table: a TCP list and a UDP list, each newest first.

export interface PortfwTable {
  readonly udp: readonly PortfwEntry[]
  readonly tcp: readonly PortfwEntry[]
}

export const EMPTY_PORTFW: PortfwTable = { udp: [], tcp: [] }

const listOf = (t: PortfwTable, protocol: number): readonly PortfwEntry[] => (protocol === IPPROTO_TCP ? t.tcp : t.udp)
const withList = (t: PortfwTable, protocol: number, list: readonly PortfwEntry[]): PortfwTable =>
  protocol === IPPROTO_TCP ? { ...t, tcp: list } : { ...t, udp: list }

const wildcardMatch = (e: PortfwEntry, r: PortfwEntry): boolean =>
  e.lport === r.lport && (!r.laddr || r.laddr === e.laddr) && (!r.rport || r.rport === e.rport) && (!r.raddr || r.raddr === e.raddr)

export interface PortfwResult {
  readonly table: PortfwTable
  /** The kernel's error; 2.2 reported it to nobody (docs/decisions.md). */
  readonly errno?: 'EINVAL' | 'ESRCH'
}

/** ip_portfw_ctl(): add (edit pass first), delete (every match), flush. */
export const applyPortfw = (command: 'add' | 'delete' | 'flush', r: PortfwEntry, t: PortfwTable): PortfwResult => {
  if (command === 'flush') return { table: EMPTY_PORTFW }
  if (r.lport < 1 || r.lport > 60999 || (r.protocol !== IPPROTO_TCP && r.protocol !== IPPROTO_UDP)) return { table: t, errno: 'EINVAL' }
  const list = listOf(t, r.protocol)
  if (command === 'delete') {
    const kept = list.filter((e) => !wildcardMatch(e, r))
    return kept.length === list.length ? { table: t, errno: 'ESRCH' } : { table: withList(t, r.protocol, kept) }
  }
  if (r.pref <= 0) return { table: t, errno: 'EINVAL' }
  // Re-adding an entry (request fields 0 are wildcards) only sets its preference.
  if (list.some((e) => wildcardMatch(e, r)))
    return {
      table: withList(
        t,
        r.protocol,
        list.map((e) => (wildcardMatch(e, r) ? { ...e, pref: r.pref, prefCnt: r.pref } : e)),
      ),
    }
  return { table: withList(t, r.protocol, [{ ...r, prefCnt: r.pref }, ...list]) }
}

export const portfwCount = (t: PortfwTable): number => t.udp.length + t.tcp.length

/** Entries that compete for the same local address and port, in list order. */
export const portfwGroups = (list: readonly PortfwEntry[]): PortfwEntry[][] => {
  const groups = new Map<string, PortfwEntry[]>()
  for (const e of list) {
    const key = `${e.laddr}:${e.lport}`
    groups.set(key, [...(groups.get(key) ?? []), e])
  }
  return [...groups.values()]
}
