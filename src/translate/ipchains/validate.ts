// What ipchains' main() does between the getopt loop and the kernel call:
// resolve addresses, ports and ICMP names, then run the cross-option checks,
// the command/option legality table and the TOS checks, in that order.
import type { Exit } from '../common/exit.ts'
import { stringToNumber } from '../common/cnum.ts'
import { byteLength } from '../common/printf.ts'
import { bitsToMask, dottedToAddr, u32 } from '../common/inet.ts'
import type { Names } from '../common/names.ts'
import { ICMP_NAMES } from './icmp.ts'
import { PROBLEM, WARNING, parameterProblem } from './messages.ts'
import { type PortRange, type Rule, EMPTY_RULE, INV, PROTO } from './model.ts'
import { CMD, NUMBER_OF_OPT, OPT, OPT_LETTERS, type Invocation } from './parse.ts'

/** What the kernel calls need once the command line has been accepted. */
export interface Command {
  readonly inv: Invocation
  /** The rule with src/dst left at 0: one kernel rule per (source, destination) pair. */
  readonly rule: Rule
  readonly saddrs: readonly number[]
  readonly daddrs: readonly number[]
}

export interface ValidateEnv {
  readonly program: string
  readonly names: Names
  /** ipchains prints its warnings on stdout as it goes. */
  readonly stdout: (text: string) => void
  readonly stdinIsTty: () => boolean
  /** The content of /proc/sys/net/ipv4/ip_forward, if readable. */
  readonly ipForward: () => string | undefined
}

// commands_v_options[][]: '+' required, 'x' illegal, ' ' optional.
//                 -n  -s  -d  -p  -j  -y  -b  -v  -l  -x  -t  -i  -f  -m  -s  -d  -o  -3
const LEGALITY: readonly string[] = [
  /* INSERT     */ 'x        x       x',
  /* DELETE     */ 'x        x       x',
  /* DELETE_NUM */ 'xxxxxxx xxxxxxxxxx',
  /* REPLACE    */ 'x     x  x       x',
  /* APPEND     */ 'x        x       x',
  /* LIST       */ ' xxxxxx x xxxxxxx ',
  /* FLUSH      */ 'xxxxxxx xxxxxxxxxx',
  /* ZERO       */ 'xxxxxxx xxxxxxxxxx',
  /* NEW_CHAIN  */ 'xxxxxxx xxxxxxxxxx',
  /* DEL_CHAIN  */ 'xxxxxxx xxxxxxxxxx',
  /* SET_POLICY */ 'xxxxxxx xxxxxxxxxx',
  /* MASQUERADE */ 'xxxxxxxxxxxxxxxxxx',
  /* SET_MASQ   */ 'xxxxxxx xxxxxxxxxx',
  /* CHECK      */ 'x+++x   xxx+ x  xx',
]

const TOS_VALUES: readonly [number, string][] = [
  [0x10, 'Minimize Delay'],
  [0x08, 'Minimize Throughput'],
  [0x04, 'Maximize Reliability'],
  [0x02, 'Minimize Cost'],
  [0x00, 'Normal Service'],
]

/** Only bits 1-3 are counted (sic: the original masks with 0x0E). */
const countTosBits = (pattern: number): number => [0x02, 0x04, 0x08].filter((bit) => pattern & bit).length

export const validate = async (inv: Invocation, env: ValidateEnv): Promise<Command> => {
  const { program, names } = env
  const param = (message: string): Exit => parameterProblem(program, message)
  let { options } = inv
  const { proto, invflg } = inv
  const command = inv.command

  const parsePort = (word: string, portProto: number): number => {
    if (portProto !== PROTO.ICMP && portProto !== PROTO.TCP && portProto !== PROTO.UDP) throw param(PROBLEM.portsNeedProtocol)
    const n = stringToNumber(word, 0, 65535)
    if (n !== -1) return n
    if (portProto === PROTO.ICMP) throw param(PROBLEM.invalidIcmpType(word))
    const port = names.servicePort(word, portProto === PROTO.TCP ? 'tcp' : 'udp')
    if (port === undefined) throw param(PROBLEM.invalidPort(word))
    return port
  }

  const parsePorts = (text: string | undefined, portProto: number): PortRange => {
    if (text === undefined) return [0, 0xffff]
    const colon = text.indexOf(':')
    if (colon === -1) {
      const port = parsePort(text, portProto)
      return [port, port]
    }
    const lo = text.slice(0, colon)
    const hi = text.slice(colon + 1)
    return [lo ? parsePort(lo, portProto) : 0, hi ? parsePort(hi, portProto) : 0xffff]
  }

  const parseMask = (text: string | undefined): number => {
    if (text === undefined) return 0xffffffff
    const dotted = dottedToAddr(text)
    if (dotted !== undefined) return dotted
    const bits = stringToNumber(text, 0, 32)
    if (bits === -1) throw param(PROBLEM.invalidMask(text))
    return bitsToMask(bits)
  }

  const parseHostNetwork = async (name: string): Promise<number[]> => {
    const dotted = dottedToAddr(name)
    if (dotted !== undefined) return [dotted]
    const net = names.netNumber(name)
    if (net !== undefined) return [net]
    const hosts = await names.hostAddrs(name)
    if (hosts && hosts.length > 0) return hosts
    throw param(PROBLEM.hostNotFound(name))
  }

  const parseHostNetworkMask = async (text: string): Promise<{ addrs: number[]; mask: number }> => {
    const buf = text.slice(0, 255)
    const slash = buf.lastIndexOf('/')
    const mask = parseMask(slash === -1 ? undefined : buf.slice(slash + 1))
    // A null mask makes the name irrelevant, as in "any/0".
    const name = mask === 0 ? '0.0.0.0' : slash === -1 ? buf : buf.slice(0, slash)
    const masked = (await parseHostNetwork(name)).map((a) => u32(a & mask))
    return { addrs: [...new Set(masked)], mask }
  }

  const parseIcmp = (): { spts: PortRange; dpts: PortRange } => {
    if (inv.srcpts !== undefined) {
      const wanted = inv.srcpts.toLowerCase()
      let match: (typeof ICMP_NAMES)[number] | undefined
      for (const icmp of ICMP_NAMES) {
        if (!icmp.name.toLowerCase().startsWith(wanted)) continue
        if (match) throw param(PROBLEM.ambiguousIcmp(inv.srcpts, match.name, icmp.name))
        match = icmp
      }
      if (match) {
        if (inv.dstpts !== undefined) throw param(PROBLEM.icmpNameWithPort)
        options |= OPT.DSTPT
        let codes: PortRange = [match.codeMin, match.codeMax]
        if (command === CMD.CHECK) {
          if (match.testable) codes = [match.codeMin, match.codeMin]
          else if (match.codeMin !== match.codeMax) throw param(PROBLEM.inexactIcmpCheck)
        }
        if (invflg & (INV.SRCPT | INV.DSTPT)) throw param(PROBLEM.invertedIcmpName)
        return { spts: [match.type, match.type], dpts: codes }
      }
    }
    return { spts: parsePorts(inv.srcpts, PROTO.ICMP), dpts: parsePorts(inv.dstpts, PROTO.ICMP) }
  }

  // Step 4: addresses (defaulting to 0.0.0.0/0 for rule commands), ports, ICMP.
  const ruleCommand = command & (CMD.REPLACE | CMD.INSERT | CMD.DELETE | CMD.APPEND)
  const shost = inv.shostnetworkmask ?? (ruleCommand ? '0.0.0.0/0' : undefined)
  const dhost = inv.dhostnetworkmask ?? (ruleCommand ? '0.0.0.0/0' : undefined)
  let saddrs: number[] = []
  let daddrs: number[] = []
  let smsk = 0
  let dmsk = 0
  // The original's rule is a zeroed static: ports a missing -s/-d leaves
  // unparsed stay 0:0, which -C's one-port check lets pass (step 11).
  let spts: PortRange = [0, 0]
  let dpts: PortRange = [0, 0]
  if (shost !== undefined) {
    ;({ addrs: saddrs, mask: smsk } = await parseHostNetworkMask(shost))
    if (proto !== PROTO.ICMP) spts = parsePorts(inv.srcpts, proto)
  }
  if (dhost !== undefined) {
    ;({ addrs: daddrs, mask: dmsk } = await parseHostNetworkMask(dhost))
    if (proto !== PROTO.ICMP) dpts = parsePorts(inv.dstpts, proto)
  }
  if (proto === PROTO.ICMP) ({ spts, dpts } = parseIcmp())

  // Steps 5-16: the cross-option checks.
  const multiple = saddrs.length > 1 || daddrs.length > 1
  const protoInverted = (invflg & INV.PROTO) !== 0
  const fragmentOnly = (options & OPT.FRAGMENT) !== 0 && !(invflg & INV.FRAG)
  const anyPort = (options & (OPT.SRCPT | OPT.DSTPT)) !== 0
  if (multiple && invflg & (INV.SRCIP | INV.DSTIP)) throw param(PROBLEM.invertMultipleAddresses)
  if (multiple && options & OPT.BIDIR) throw param(PROBLEM.bidirMultipleAddresses)
  if ((proto === 0 || protoInverted) && anyPort) throw param(PROBLEM.portsWithoutProtocol)
  if ((proto !== PROTO.TCP || protoInverted) && options & OPT.TCPSYN) throw param(PROBLEM.synNeedsTcp)
  if (fragmentOnly && anyPort) throw param(PROBLEM.portsWithFragment)
  if (fragmentOnly && options & OPT.TCPSYN) throw param(PROBLEM.synWithFragment)
  if (
    command === CMD.CHECK &&
    (proto === PROTO.TCP || proto === PROTO.UDP || proto === PROTO.ICMP) &&
    !(options & OPT.FRAGMENT) &&
    (!(options & OPT.SRCPT) || spts[0] !== spts[1] || !(options & OPT.DSTPT) || dpts[0] !== dpts[1])
  )
    throw param(PROBLEM.checkNeedsPorts)
  if (command === CMD.CHECK && invflg !== 0) throw param(PROBLEM.invertWithCheck)
  const redirect = inv.jumpto === 'REDIRECT'
  if (((proto !== PROTO.TCP && proto !== PROTO.UDP) || protoInverted) && redirect) throw param(PROBLEM.redirectNeedsTcpUdp)
  if (inv.jumpto === 'MASQ' && (inv.chain === 'input' || inv.chain === 'output')) throw param(PROBLEM.masqChain)
  if (redirect && (inv.chain === 'output' || inv.chain === 'forward')) throw param(PROBLEM.redirectChain)
  if (command === CMD.REPLACE && (saddrs.length !== 1 || daddrs.length !== 1)) throw param(PROBLEM.replaceNeedsUniqueAddress)

  // Step 17: the forwarding reminder, only when someone is typing at a terminal.
  if (inv.warnings && inv.chain === 'forward' && (command === CMD.APPEND || command === CMD.INSERT)) {
    const forward = env.ipForward()
    if (forward !== undefined && Number.parseInt(forward, 10) === 0 && env.stdinIsTty()) env.stdout(WARNING.forwardingOff)
  }

  // Steps 18-19: lazy -S means -M -S; then the legality table.
  const finalCommand = command === CMD.SET_MASQUERADE ? command | CMD.MASQUERADE : command
  checkLegality(finalCommand, options, param)

  // Step 20
  if (inv.chain !== undefined && byteLength(inv.chain) > 8) throw param(PROBLEM.chainTooLong(inv.chain))

  // Step 21
  const redirpt = redirect ? parsePort(inv.rport, proto) : 0

  // Step 22
  const tosGiven = (options & OPT.TOS) !== 0
  const tosand = tosGiven ? inv.tosand : 0xff
  const tosxor = tosGiven ? inv.tosxor : 0x00
  if (!(tosand & 1) || tosxor & 1) throw param(PROBLEM.tosBitZero)
  if (countTosBits(~tosand & tosxor) > 1) throw param(PROBLEM.tosMultipleBits)
  for (const [tos, name] of TOS_VALUES)
    if (countTosBits((tos & tosand) ^ tosxor) > 1 && inv.warnings) env.stdout(WARNING.tosMultipleBits(name, tos))

  // Step 23
  if (finalCommand === CMD.MASQUERADE) throw param(PROBLEM.masqNeedsListOrSet)

  const rule: Rule = {
    ...EMPTY_RULE,
    smsk,
    dmsk,
    mark: inv.mark,
    proto,
    flg: inv.flg,
    invflg,
    spts,
    dpts,
    redirpt,
    outputsize: inv.outputsize,
    vianame: inv.vianame,
    tosand,
    tosxor,
    label: options & OPT.JUMP ? (inv.jumpto ?? '') : '',
  }
  return { inv: { ...inv, command: finalCommand, options }, rule, saddrs, daddrs }
}

// generic_opt_check(): an option is legal if any of the given commands allows it.
const checkLegality = (command: number, options: number, param: (message: string) => Exit): void => {
  for (let i = 0; i < NUMBER_OF_OPT; i++) {
    let legal = 0
    LEGALITY.forEach((row, j) => {
      if (!(command & (1 << j))) return
      const cell = row[i]
      if (!(options & (1 << i))) {
        if (cell === '+') throw param(PROBLEM.optionRequired(OPT_LETTERS[i] ?? ''))
      } else if (cell !== 'x') legal = 1
      else if (legal === 0) legal = -1
    })
    if (legal === -1) throw param(PROBLEM.optionIllegal(OPT_LETTERS[i] ?? ''))
  }
}
