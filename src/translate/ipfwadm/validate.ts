// What ipfwadm's main() does after the getopt loop: the checks in their
// order, then addresses and ports, then the redirect port.
import { stringToNumber } from '../common/cnum.ts'
import type { Exit } from '../common/exit.ts'
import { bitsToMask, dottedToAddr, u32 } from '../common/inet.ts'
import type { Names } from '../common/names.ts'
import { USAGE, usageError } from './messages.ts'
import { type Category, FW, KIND, MAX_PORTS, type Rule } from './model.ts'
import { CMD, type Invocation, OPT } from './parse.ts'

/** What the kernel calls need once the command line has been accepted. */
export interface Command {
  readonly inv: Invocation
  /** undefined for -M. */
  readonly category: Category | undefined
  /** The rule with src/dst left at 0: one kernel call per (source, destination) pair. */
  readonly rule: Rule
  readonly saddrs: readonly number[]
  readonly daddrs: readonly number[]
}

const FIREWALLS = ['forward', 'input', 'output'] as const
const LFZP = CMD.LIST | CMD.FLUSH | CMD.RESET | CMD.POLICY
const IAD = CMD.INSERT | CMD.APPEND | CMD.DELETE

export const validate = async (inv: Invocation, program: string, names: Names): Promise<Command> => {
  const fail = (message: string): Exit => usageError(program, message)
  const { target, command, options, nsp, ndp } = inv
  const firewall = (FIREWALLS as readonly string[]).includes(target ?? '')
  const policy = inv.flg & (FW.ACCEPT | FW.ICMPRPL | FW.MASQ)
  const kind = inv.flg & FW.KIND

  if (target === undefined) throw fail(USAGE.noCategory)
  if (!firewall && command === CMD.CHECK) throw fail(USAGE.checkNeedsFirewall)
  if (!firewall && command === CMD.POLICY) throw fail(USAGE.policyNeedsFirewall)
  if (firewall && !(options & OPT.POLICY) && command & IAD) throw fail(USAGE.policyRequired)
  if (!firewall && options & OPT.POLICY) throw fail(USAGE.policyNotAllowed)
  if (target === 'masquerading' && !(command & CMD.TIMEOUT) && !(command & CMD.LIST)) throw fail(USAGE.masqNeedsListOrTimeouts)
  if (target !== 'masquerading' && command & CMD.TIMEOUT) throw fail(USAGE.timeoutsNeedMasq)

  const onlyWithIad = (option: number, message: string): void => {
    if (options & option && !(command & IAD)) throw fail(message)
  }
  onlyWithIad(OPT.BIDIR, USAGE.bidirOnlyIad)
  onlyWithIad(OPT.PRINTK, USAGE.printkOnlyIad)
  onlyWithIad(OPT.REDIRECT, USAGE.redirectOnlyIad)
  onlyWithIad(OPT.TOS, USAGE.tosOnlyIad)

  if (options & OPT.PROTOCOL && command & LFZP) throw fail(USAGE.protocolNotAllowed)
  if (!(options & OPT.PROTOCOL) && command === CMD.CHECK) throw fail(USAGE.protocolRequired)
  if (command === CMD.CHECK && kind === KIND.ALL) throw fail(USAGE.checkNeedsProtocol)

  if (options & OPT.VIAADDR && command & LFZP) throw fail(USAGE.viaAddrNotAllowed)
  if (!(options & OPT.VIAADDR) && command & CMD.CHECK) throw fail(USAGE.viaAddrRequired)
  if (options & OPT.VIANAME && command & LFZP) throw fail(USAGE.viaNameNotAllowed)
  if (!(options & OPT.VIANAME) && command & CMD.CHECK) throw fail(USAGE.viaNameRequired)

  if (kind === KIND.ICMP && ndp !== 0) throw fail(USAGE.icmpDestinationPorts)
  if (kind === KIND.ALL && (nsp !== 0 || ndp !== 0)) throw fail(USAGE.portsWithoutProtocol)
  if (command === CMD.CHECK && kind !== KIND.ICMP && (nsp !== 1 || ndp !== 1)) throw fail(USAGE.checkNeedsPorts)
  if (command === CMD.CHECK && kind === KIND.ICMP && (nsp !== 1 || ndp !== 0)) throw fail(USAGE.checkNeedsIcmpType)
  if (options & OPT.REDIRECT && target !== 'input') throw fail(USAGE.redirectNeedsInput)
  if (kind === KIND.ICMP && options & OPT.REDIRECT) throw fail(USAGE.redirectIcmp)
  if (options & OPT.MASQUERADE && target !== 'forward') throw fail(USAGE.masqNeedsForward)
  if (kind === KIND.ICMP && options & OPT.MASQUERADE) throw fail(USAGE.masqIcmp)
  if (options & OPT.MASQUERADE && !(policy & FW.ACCEPT)) throw fail(USAGE.masqNeedsAccept)

  const parsePort = (word: string): number => {
    const n = stringToNumber(word, 0, 65535)
    if (n !== -1) return n
    if (kind === KIND.ICMP) throw fail(USAGE.invalidIcmpType(word))
    const port = kind === KIND.TCP || kind === KIND.UDP ? names.servicePort(word, kind === KIND.TCP ? 'tcp' : 'udp') : undefined
    if (port === undefined) throw fail(USAGE.invalidPort(word))
    return port
  }

  // parse_all_ports(): a range fills the first two slots, single ports follow.
  const parseAllPorts = (words: readonly (string | undefined)[], count: number, range: boolean): number[] => {
    const slots: number[] = []
    let next = range ? 2 : 0
    for (const word of words.slice(0, count)) {
      if (word === undefined) continue
      const colon = word.slice(0, 255).indexOf(':')
      if (colon === -1) slots[next++] = parsePort(word.slice(0, 255))
      else {
        const lo = parsePort(word.slice(0, colon))
        const hi = parsePort(word.slice(colon + 1, 255))
        if (lo > hi) throw fail(USAGE.invalidPortRange(lo, hi))
        slots[0] = lo
        slots[1] = hi
      }
    }
    return Array.from({ length: count }, (_, i) => slots[i] ?? 0)
  }

  const parseMask = (text: string | undefined): number => {
    if (text === undefined) return 0xffffffff
    const dotted = dottedToAddr(text)
    if (dotted !== undefined) return dotted
    const bits = stringToNumber(text, 0, 32)
    if (bits === -1) throw fail(USAGE.invalidMask(text))
    return bitsToMask(bits)
  }

  // A dotted quad, then a network name, then host names.
  const hostNetwork = async (name: string): Promise<number[] | undefined> => {
    const dotted = dottedToAddr(name)
    if (dotted !== undefined) return [dotted]
    const net = names.netNumber(name)
    return net !== undefined ? [net] : names.hostAddrs(name)
  }

  const parseHostNetworkMask = async (text: string): Promise<{ addrs: number[]; mask: number }> => {
    const buf = text.slice(0, 255)
    const slash = buf.lastIndexOf('/')
    const mask = parseMask(slash === -1 ? undefined : buf.slice(slash + 1))
    const name = mask === 0 ? '0.0.0.0' : slash === -1 ? buf : buf.slice(0, slash)
    const found = await hostNetwork(name)
    if (!found || found.length === 0) throw fail(USAGE.hostNetworkNotFound(name))
    return { addrs: [...new Set(found.map((a) => u32(a & mask)))], mask }
  }

  const endpoint = async (
    given: number,
    host: string | undefined,
    missing: string,
    words: readonly (string | undefined)[],
    count: number,
    range: boolean,
  ) => {
    const letter = given === OPT.SOURCE ? 'S' : 'D'
    const what = given === OPT.SOURCE ? 'source' : 'destination'
    if (options & given && command & LFZP) throw fail(USAGE.addressNotAllowed(what, letter))
    if (!(options & given) && command & CMD.CHECK) throw fail(USAGE.addressRequired(what, letter))
    const text = host ?? (command & IAD ? missing : undefined)
    if (text === undefined) return { addrs: [] as number[], mask: 0, ports: Array<number>(count).fill(0) }
    const { addrs, mask } = await parseHostNetworkMask(text)
    return { addrs, mask, ports: parseAllPorts(words, count, range) }
  }
  const s = await endpoint(OPT.SOURCE, inv.shost, '0.0.0.0/0', inv.sports, nsp, (inv.flg & FW.SRNG) !== 0)
  const d = await endpoint(OPT.DESTINATION, inv.dhost, '0.0.0.0/0', inv.dports, ndp, (inv.flg & FW.DRNG) !== 0)

  const pts = [...s.ports, ...d.ports]
  if (options & OPT.REDIRECT) {
    if (nsp + ndp >= MAX_PORTS) throw fail(USAGE.tooManyPortsRedirect(MAX_PORTS - 1))
    pts.push(parsePort(inv.rport))
  }
  const tos = options & OPT.TOS
  const rule: Rule = {
    src: 0,
    smsk: s.mask,
    dst: 0,
    dmsk: d.mask,
    via: inv.via,
    vianame: inv.vianame,
    flg: inv.flg,
    nsp,
    ndp,
    pts,
    tosand: tos ? inv.tosand : 0xff,
    tosxor: tos ? inv.tosxor : 0x00,
  }
  return { inv, category: target === 'masquerading' ? undefined : target, rule, saddrs: s.addrs, daddrs: d.addrs }
}
