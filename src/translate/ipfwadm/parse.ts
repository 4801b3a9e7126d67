// The ipfwadm 2.3.0 command line: GNU getopt (permuting, short options
// only), with the words some options take by hand from argv[optind] when
// they do not start with '-' (direction, policy, ports, timeouts, TOS, -r).
// As in the original, -V is resolved while scanning and ports are only
// counted; everything else is checked afterwards (validate.ts).
import { Exit } from '../common/exit.ts'
import { Getopt } from '../common/getopt.ts'
import { hexByteValue, stringToNumber } from '../common/cnum.ts'
import { dottedToAddr } from '../common/inet.ts'
import type { Names } from '../common/names.ts'
import { helpText } from './help.ts'
import { USAGE, tryHelpOnly, usageError } from './messages.ts'
import { FW, MAX_PORTS } from './model.ts'

export const CMD = {
  LIST: 0x0001,
  APPEND: 0x0002,
  DELETE: 0x0004,
  FLUSH: 0x0008,
  RESET: 0x0010,
  POLICY: 0x0020,
  CHECK: 0x0040,
  INSERT: 0x0100,
  TIMEOUT: 0x0200,
} as const

export const OPT = {
  EXTENDED: 0x000001,
  NUMERIC: 0x000002,
  SOURCE: 0x000004,
  DESTINATION: 0x000008,
  PROTOCOL: 0x000010,
  VIAADDR: 0x000020,
  POLICY: 0x000040,
  TCPSYN: 0x000080,
  BIDIR: 0x000100,
  VERBOSE: 0x000200,
  PRINTK: 0x000400,
  EXPANDED: 0x000800,
  TCPACK: 0x001000,
  TOS: 0x002000,
  VIANAME: 0x004000,
  REDIRECT: 0x008000,
  MASQUERADE: 0x010000,
} as const

export type Target = 'forward' | 'input' | 'output' | 'accounting' | 'masquerading'

/** The globals of ipfwadm's main() once the getopt loop is done. */
export interface Invocation {
  readonly target: Target | undefined
  readonly command: number
  readonly options: number
  readonly flg: number
  readonly nsp: number
  readonly ndp: number
  /** Port words by slot (a range word sits in the second slot of its pair). */
  readonly sports: readonly (string | undefined)[]
  readonly dports: readonly (string | undefined)[]
  readonly shost: string | undefined
  readonly dhost: string | undefined
  readonly via: number
  readonly vianame: string
  readonly tosand: number
  readonly tosxor: number
  readonly rport: string
  /** -s values in seconds. */
  readonly timeouts: readonly [number, number, number] | undefined
}

const OPTSTRING = 'AFIMOadilzfs:p:chP:S:D:V:W:bekmnort:vxy'

/**
 * Options that only set an option bit and a rule flag (0: none). The rule
 * flags are also how a rule is written back (codec.ts) and listed (list.ts).
 */
const FLAG_OPTIONS = {
  b: [OPT.BIDIR, FW.BIDIR],
  e: [OPT.EXTENDED, 0],
  k: [OPT.TCPACK, FW.TCPACK],
  m: [OPT.MASQUERADE, FW.MASQ],
  n: [OPT.NUMERIC, 0],
  o: [OPT.PRINTK, FW.PRN],
  v: [OPT.VERBOSE, 0],
  x: [OPT.EXPANDED, 0],
  y: [OPT.TCPSYN, FW.TCPSYN],
} as const
type FlagLetter = keyof typeof FLAG_OPTIONS
/** The flag options a rule shows, in the order of the listing's opt column (-m shows as the verdict). */
export const RULE_FLAG_LETTERS = ['b', 'k', 'y', 'o'] as const satisfies readonly FlagLetter[]
/** The rule flag of a flag option. */
export const flagOf = (letter: FlagLetter): number => FLAG_OPTIONS[letter][1]
const IFNAMSIZ = 16

/** strncmp(word, s, strlen(s)) == 0: the word starts with s (so "" matches anything). */
const isPrefixOf = (s: string, word: string): boolean => word.startsWith(s)

export const parseInvocation = async (program: string, args: readonly string[], names: Names): Promise<Invocation> => {
  const fail = (message: string): Exit => usageError(program, message)
  const g = new Getopt(program, args, OPTSTRING)
  let target: Target | undefined
  let command = 0
  let options = 0
  let flg = 0
  let nsp = 0
  let ndp = 0
  const sports: (string | undefined)[] = []
  const dports: (string | undefined)[] = []
  let shost: string | undefined
  let dhost: string | undefined
  let via = 0
  let vianame = ''
  let tosand = 0
  let tosxor = 0
  let rport = '0'
  let timeouts: [number, number, number] | undefined

  // A word the option takes by hand: the next argv element, unless it starts with '-'.
  const nextWord = (): string | undefined => {
    const word = g.peek()
    if (word === undefined || word[0] === '-') return undefined
    g.optind++
    return word
  }

  const checkOption = (option: number, letter: string): void => {
    if (options & option) throw fail(USAGE.multipleOption(letter))
    options |= option
  }

  const setCategory = (t: Target): void => {
    if (target !== undefined) throw fail(USAGE.multipleCategories)
    target = t
  }

  const setCommand = (cmd: number): void => {
    if (command !== 0) throw fail(USAGE.multipleCommands)
    command = cmd
  }

  const parsePolicy = (word: string): void => {
    if (isPrefixOf(word, 'accept')) flg |= FW.ACCEPT
    else if (isPrefixOf(word, 'deny')) flg |= 0
    else if (isPrefixOf(word, 'reject')) flg |= FW.ICMPRPL
    else if (isPrefixOf(word, 'masquerade')) {
      // Backwards compatibility: the same as "accept" with -m.
      checkOption(OPT.MASQUERADE, 'm')
      flg |= FW.ACCEPT | FW.MASQ
    } else throw fail(USAGE.invalidPolicy(word))
  }

  const parseDirection = (word: string): void => {
    if (isPrefixOf(word, 'in')) flg |= FW.ACCTIN
    else if (isPrefixOf(word, 'out')) flg |= FW.ACCTOUT
    else if (!isPrefixOf(word, 'both')) throw fail(USAGE.invalidDirection(word))
  }

  const parseProtocol = (word: string): void => {
    const kind = ['all', 'tcp', 'udp', 'icmp'].findIndex((name) => isPrefixOf(word, name))
    if (kind === -1) throw fail(USAGE.invalidProtocol(word))
    flg |= kind
  }

  // store_port(): only counts here; a range takes two slots, once per side.
  const storePort = (word: string, source: boolean): void => {
    const rangeFlag = source ? FW.SRNG : FW.DRNG
    let count = source ? nsp : ndp
    if (!word.includes(':')) count += 1
    else if (flg & rangeFlag) throw fail(USAGE.multipleRanges)
    else {
      count += 2
      flg |= rangeFlag
    }
    if (source) nsp = count
    else ndp = count
    if (nsp + ndp > MAX_PORTS) throw fail(USAGE.tooManyPorts(MAX_PORTS))
    ;(source ? sports : dports)[count - 1] = word
  }

  const parseHexbyte = (word: string): number => {
    const value = hexByteValue(word)
    if (value === undefined) throw fail(USAGE.invalidHexbyte(word))
    return value
  }

  const parseTimeout = (word: string): number => {
    const n = stringToNumber(word, 0, 2 ** 31 - 1)
    if (n === -1) throw fail(USAGE.invalidTimeout(word))
    return n
  }

  const parseViaHost = async (word: string): Promise<void> => {
    const dotted = dottedToAddr(word)
    if (dotted !== undefined) {
      via = dotted
      return
    }
    const addrs = await names.hostAddrs(word)
    if (!addrs || addrs.length === 0) throw fail(USAGE.hostNotFound(word))
    if (addrs.length !== 1) throw fail(USAGE.hostNotUnique(word))
    via = addrs[0] ?? 0
  }

  for (;;) {
    const event = g.next()
    if (event.kind === 'end') break
    if (event.kind === 'error') throw tryHelpOnly(program, event.message)
    if (event.kind === 'nonoption') continue
    const optarg = event.optarg ?? ''
    switch (event.code) {
      case 'A': {
        setCategory('accounting')
        const word = nextWord()
        if (word !== undefined) parseDirection(word)
        break
      }
      case 'F':
        setCategory('forward')
        break
      case 'I':
        setCategory('input')
        break
      case 'M':
        setCategory('masquerading')
        break
      case 'O':
        setCategory('output')
        break
      case 'a':
      case 'd':
      case 'i': {
        setCommand(event.code === 'a' ? CMD.APPEND : event.code === 'd' ? CMD.DELETE : CMD.INSERT)
        const word = nextWord()
        if (word !== undefined) {
          parsePolicy(word)
          options |= OPT.POLICY
        }
        break
      }
      case 'l':
        if (command !== 0 && command !== CMD.RESET) throw fail(USAGE.multipleCommands)
        command |= CMD.LIST
        break
      case 'z':
        if (command !== 0 && command !== CMD.LIST) throw fail(USAGE.multipleCommands)
        command |= CMD.RESET
        break
      case 'f':
        setCommand(CMD.FLUSH)
        break
      case 'p':
        setCommand(CMD.POLICY)
        parsePolicy(optarg)
        break
      case 's': {
        setCommand(CMD.TIMEOUT)
        const [second, third] = [g.peek(), g.peek(1)]
        if (second === undefined || third === undefined || second[0] === '-' || third[0] === '-') throw fail(USAGE.timeoutsNeeded)
        timeouts = [parseTimeout(optarg), parseTimeout(g.take() ?? ''), parseTimeout(g.take() ?? '')]
        break
      }
      case 'c':
        setCommand(CMD.CHECK)
        break
      case 'h':
        throw new Exit(0, '', helpText(program))
      case 'P':
        checkOption(OPT.PROTOCOL, 'P')
        parseProtocol(optarg)
        break
      case 'S':
      case 'D': {
        const source = event.code === 'S'
        checkOption(source ? OPT.SOURCE : OPT.DESTINATION, event.code)
        if (source) shost = optarg
        else dhost = optarg
        for (let word = nextWord(); word !== undefined; word = nextWord()) storePort(word, source)
        break
      }
      case 'V':
        checkOption(OPT.VIAADDR, 'V')
        await parseViaHost(optarg)
        break
      case 'W':
        checkOption(OPT.VIANAME, 'W')
        // strncpy(fw_vianame, optarg, IFNAMSIZ)
        vianame = new TextDecoder().decode(new TextEncoder().encode(optarg).slice(0, IFNAMSIZ))
        break
      case 'r':
        checkOption(OPT.REDIRECT, 'r')
        flg |= FW.REDIR
        rport = nextWord() ?? '0'
        break
      case 't': {
        checkOption(OPT.TOS, 't')
        const xor = nextWord()
        if (xor === undefined) throw fail(USAGE.tosNeedsBytes)
        tosand = parseHexbyte(optarg)
        tosxor = parseHexbyte(xor)
        break
      }
      case 'b':
      case 'e':
      case 'k':
      case 'm':
      case 'n':
      case 'o':
      case 'v':
      case 'x':
      case 'y': {
        const [option, flag] = FLAG_OPTIONS[event.code]
        checkOption(option, event.code)
        flg |= flag
        break
      }
      default:
        throw tryHelpOnly(program)
    }
  }
  if (g.optind < g.argc) throw fail(USAGE.unknownArguments)
  if (!command) throw fail(USAGE.noCommand)
  return { target, command, options, flg, nsp, ndp, sports, dports, shost, dhost, via, vianame, tosand, tosxor, rport, timeouts }
}
