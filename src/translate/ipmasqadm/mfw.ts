// ipmasqadm mfw (mfw.c 0.1) and the 2.2 ip_masq_mfw table: marks hashed
// into 16 buckets (newest mark first), each with a list of hosts.
import { Getopt } from '../common/getopt.ts'
import type { Names } from '../common/names.ts'
import { parseAddressPort } from './addrport.ts'
import { ERROR, type Errno, type Printed, exitError, helpExit, mfwHelp, refuseLeftovers } from './messages.ts'
import { atoi } from './portfw.ts'
import { advance } from './rotation.ts'

export const MFW_DEFAULT_PREF = 10

export type MfwCommand = 'add' | 'insert' | 'edit' | 'delete' | 'sched' | 'flush' | 'list'

export interface MfwHost {
  readonly raddr: number
  readonly rport: number
  readonly pref: number
  readonly prefCnt: number
}

export interface MfwMark {
  readonly mark: number
  readonly hosts: readonly MfwHost[]
}

export interface MfwRequest {
  readonly command: MfwCommand
  readonly mark: number
  readonly host: MfwHost
  readonly numeric: boolean
  readonly printed: Printed
}

// -I is not in mfw.c's option string; the man page documents it and the
// kernel implements it, so legacyfw accepts it (docs/decisions.md).
const COMMAND_LETTERS: Record<string, MfwCommand> = { A: 'add', I: 'insert', E: 'edit', D: 'delete', F: 'flush', S: 'sched', L: 'list' }

export const parseMfw = async (module: string, args: readonly string[], names: Names): Promise<MfwRequest> => {
  const g = new Getopt(module, args, 'AIEDFSLnm:r:p:h')
  const printed: Printed = { stdout: '', stderr: '' }
  let command: MfwCommand | undefined
  let nonames = 0
  let mark = 0
  let pref = MFW_DEFAULT_PREF
  const redir = { addr: 0, port: 0 }
  for (;;) {
    const ev = g.next()
    if (ev.kind === 'end') break
    if (ev.kind === 'nonoption') continue
    if (ev.kind === 'error') {
      printed.stderr += ev.message
      throw helpExit(mfwHelp(module, MFW_DEFAULT_PREF), printed)
    }
    const letter = COMMAND_LETTERS[ev.code]
    if (letter !== undefined) {
      if (command !== undefined) throw exitError(module, ERROR.multipleCommands, printed)
      command = letter
      continue
    }
    switch (ev.code) {
      case 'n':
        nonames++
        break
      case 'm':
        mark = atoi(ev.optarg ?? '') >>> 0
        break
      case 'r': {
        if (redir.addr || redir.port) throw exitError(module, ERROR.multipleDestinations, printed)
        const at = g.optind - 1
        const parsed = await parseAddressPort(g.argv.slice(at, at + 2), nonames > 0, names)
        printed.stderr += parsed.stderr
        if (parsed.used < 1) throw exitError(module, ERROR.illegalDestination, printed)
        redir.addr = parsed.addr
        redir.port = parsed.port
        g.optind += parsed.used - 1
        break
      }
      case 'p':
        pref = atoi(ev.optarg ?? '')
        if (pref < 0) throw exitError(module, ERROR.illegalPreference, printed)
        break
      default:
        throw helpExit(mfwHelp(module, MFW_DEFAULT_PREF), printed)
    }
  }
  refuseLeftovers(module, g, printed)
  if (command === undefined) throw helpExit(mfwHelp(module, MFW_DEFAULT_PREF), printed)
  if ((command === 'add' || command === 'insert' || command === 'delete') && mark === 0) throw exitError(module, ERROR.insufficientOptions, printed)
  if ((command === 'flush' || command === 'list') && (mark !== 0 || redir.port !== 0 || redir.addr !== 0))
    throw exitError(module, ERROR.incompatibleOptions, printed)
  return { command, mark, host: { raddr: redir.addr, rport: redir.port, pref, prefCnt: pref }, numeric: nonames > 0, printed }
}

// ---------------------------------------------------------------------------
// The kernel table, in /proc order: bucket 0..15, newest mark first.

const bucket = (mark: number): number => mark & 0xf

const hostMatch = (h: MfwHost, r: MfwHost): boolean => (!r.raddr || r.raddr === h.raddr) && (!r.rport || r.rport === h.rport)

export interface MfwResult {
  readonly marks: readonly MfwMark[]
  readonly errno?: Errno
}

const withHosts = (marks: readonly MfwMark[], mark: number, hosts: readonly MfwHost[]): MfwMark[] =>
  hosts.length === 0 ? marks.filter((m) => m.mark !== mark) : marks.map((m) => (m.mark === mark ? { mark, hosts } : m))

export const applyMfw = (command: Exclude<MfwCommand, 'list'>, mark: number, r: MfwHost, marks: readonly MfwMark[]): MfwResult => {
  const entry = marks.find((m) => m.mark === mark)
  switch (command) {
    case 'flush':
      return { marks: [] }
    case 'add':
    case 'insert': {
      if (mark === 0 || r.pref < 0 || r.raddr === 0) return { marks, errno: 'EINVAL' }
      const host = { ...r, prefCnt: r.pref }
      if (entry) return { marks: withHosts(marks, mark, command === 'add' ? [...entry.hosts, host] : [host, ...entry.hosts]) }
      const at = marks.findIndex((m) => bucket(m.mark) >= bucket(mark))
      const created = { mark, hosts: [host] }
      return { marks: at === -1 ? [...marks, created] : [...marks.slice(0, at), created, ...marks.slice(at)] }
    }
    case 'delete': {
      if (!entry) return { marks, errno: 'ESRCH' }
      const kept = entry.hosts.filter((h) => !hostMatch(h, r))
      if (kept.length === entry.hosts.length) return { marks, errno: 'ESRCH' }
      return { marks: withHosts(marks, mark, kept) }
    }
    case 'edit': {
      if (mark === 0 || r.pref < 0 || !entry) return { marks, errno: 'EINVAL' }
      if (!entry.hosts.some((h) => hostMatch(h, r))) return { marks, errno: 'ESRCH' }
      return {
        marks: withHosts(
          marks,
          mark,
          entry.hosts.map((h) => (hostMatch(h, r) ? { ...h, pref: r.pref, prefCnt: r.pref } : h)),
        ),
      }
    }
    case 'sched': {
      if (!entry || entry.hosts.length === 0) return { marks, errno: 'EINVAL' }
      if (entry.hosts.length < 2) return { marks }
      const [head, ...rest] = entry.hosts as [MfwHost, ...MfwHost[]]
      return { marks: withHosts(marks, mark, [...rest, { ...head, prefCnt: head.pref }]) }
    }
  }
}

/** Does the mark's host list rotate (2.2: at least two hosts, the head's pref not 0)? */
export const mfwRotates = (m: MfwMark): boolean => m.hosts.length >= 2 && (m.hosts[0]?.pref ?? 0) !== 0

/** The mark after `count` new connections. */
export const mfwAfter = (m: MfwMark, count: number): MfwMark =>
  mfwRotates(m) ? { mark: m.mark, hosts: advance(m.hosts, () => true, true, count) } : m
