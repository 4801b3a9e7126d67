// The ipchains 1.3.9 command line: the getopt loop of main(), option by
// option, with the original's handling of '!' and of the optional words
// that follow -s, -d, -D, -I, -R, -L, -F, -Z, -X, -P, -S, -j, -o and -t.
// Everything here is syntax; addresses, ports and the cross-option checks
// are resolved afterwards (validate.ts), in the original's order.
import { Exit } from '../common/exit.ts'
import { Getopt, type LongOption } from '../common/getopt.ts'
import { isCSpace, strtol, strtoul, stringToNumber } from '../common/cnum.ts'
import { byteLength } from '../common/printf.ts'
import { helpText, icmpHelpText } from './help.ts'
import { PACKAGE_VERSION, parameterProblem, tryHelpOnly } from './messages.ts'
import { F, INV } from './model.ts'

/** Commands, in the bit order of the original (CMD_INSERT = 1 << 0 ...). */
export const CMD = {
  INSERT: 1 << 0,
  DELETE: 1 << 1,
  DELETE_NUM: 1 << 2,
  REPLACE: 1 << 3,
  APPEND: 1 << 4,
  LIST: 1 << 5,
  FLUSH: 1 << 6,
  ZERO: 1 << 7,
  NEW_CHAIN: 1 << 8,
  DELETE_CHAIN: 1 << 9,
  SET_POLICY: 1 << 10,
  MASQUERADE: 1 << 11,
  SET_MASQUERADE: 1 << 12,
  CHECK: 1 << 13,
} as const
const CMD_LETTERS = 'IDDRALFZNXPMSC'

/** Options, in the bit order of the original (OPT_NUMERIC = 1 << 0 ...). */
export const OPT = {
  NUMERIC: 1 << 0,
  SOURCE: 1 << 1,
  DESTINATION: 1 << 2,
  PROTOCOL: 1 << 3,
  JUMP: 1 << 4,
  TCPSYN: 1 << 5,
  BIDIR: 1 << 6,
  VERBOSE: 1 << 7,
  PRINTK: 1 << 8,
  EXPANDED: 1 << 9,
  TOS: 1 << 10,
  VIANAME: 1 << 11,
  FRAGMENT: 1 << 12,
  MARK: 1 << 13,
  SRCPT: 1 << 14,
  DSTPT: 1 << 15,
  NETLINK: 1 << 16,
  LINENUMBERS: 1 << 17,
} as const
export const OPT_LETTERS = 'nsdpjybvlxtifmsdo3'
export const NUMBER_OF_OPT = OPT_LETTERS.length

/** The invflg bit each option may carry, by option bit index (inverse_for_options[]). */
const INVERSE_FOR_OPTION = [0, INV.SRCIP, INV.DSTIP, INV.PROTO, 0, INV.SYN, 0, 0, 0, 0, 0, INV.VIA, INV.FRAG, 0, INV.SRCPT, INV.DSTPT, 0, 0]

const LONG_OPTIONS: readonly LongOption[] = [
  { name: 'append', hasArg: 1, val: 'A' },
  { name: 'delete', hasArg: 1, val: 'D' },
  { name: 'insert', hasArg: 1, val: 'I' },
  { name: 'replace', hasArg: 1, val: 'R' },
  { name: 'list', hasArg: 2, val: 'L' },
  { name: 'flush', hasArg: 2, val: 'F' },
  { name: 'zero', hasArg: 2, val: 'Z' },
  { name: 'check', hasArg: 1, val: 'C' },
  { name: 'new-chain', hasArg: 1, val: 'N' },
  { name: 'delete-chain', hasArg: 1, val: 'X' },
  { name: 'policy', hasArg: 1, val: 'P' },
  { name: 'masquerading', hasArg: 0, val: 'M' },
  { name: 'set', hasArg: 1, val: 'S' },
  { name: 'bidirectional', hasArg: 0, val: 'b' },
  { name: 'source', hasArg: 1, val: 's' },
  { name: 'destination', hasArg: 1, val: 'd' },
  { name: 'src', hasArg: 1, val: 's' },
  { name: 'dst', hasArg: 1, val: 'd' },
  { name: 'source-port', hasArg: 1, val: '1' },
  { name: 'destination-port', hasArg: 1, val: '2' },
  { name: 'icmp-type', hasArg: 1, val: '1' },
  { name: 'sport', hasArg: 1, val: '1' },
  { name: 'dport', hasArg: 1, val: '2' },
  { name: 'protocol', hasArg: 1, val: 'p' },
  { name: 'interface', hasArg: 1, val: 'i' },
  { name: 'jump', hasArg: 1, val: 'j' },
  { name: 'TOS', hasArg: 1, val: 't' },
  { name: 'mark', hasArg: 1, val: 'm' },
  { name: 'numeric', hasArg: 0, val: 'n' },
  { name: 'log', hasArg: 0, val: 'l' },
  { name: 'output', hasArg: 2, val: 'o' },
  { name: 'verbose', hasArg: 0, val: 'v' },
  { name: 'exact', hasArg: 0, val: 'x' },
  { name: 'fragments', hasArg: 0, val: 'f' },
  { name: 'syn', hasArg: 0, val: 'y' },
  { name: 'version', hasArg: 0, val: 'V' },
  { name: 'help', hasArg: 0, val: 'h' },
  { name: 'line-numbers', hasArg: 0, val: '3' },
  { name: 'no-warnings', hasArg: 0, val: 'W' },
]

const OPTSTRING = '-A:C:D:R:I:L::F::Z::N:X::P:MS:Vh::o::p:s:d:j:i:fbvm:nlt:xy'

const IFNAMSIZ = 16
const CHAIN_LABEL_MAX = 8

/** The C variables of main() once the getopt loop is done. */
export interface Invocation {
  readonly command: number
  readonly options: number
  readonly chain: string | undefined
  readonly rulenum: number
  readonly proto: number
  readonly flg: number
  readonly invflg: number
  readonly vianame: string
  readonly mark: number
  readonly outputsize: number
  readonly tosand: number
  readonly tosxor: number
  readonly jumpto: string | undefined
  readonly rport: string
  readonly policy: string | undefined
  readonly shostnetworkmask: string | undefined
  readonly dhostnetworkmask: string | undefined
  readonly srcpts: string | undefined
  readonly dstpts: string | undefined
  /** -S values in seconds (still unscaled). */
  readonly timeouts: readonly [number, number, number] | undefined
  readonly warnings: boolean
}

/** cmd2char(): the letter of the highest command bit set. */
export const cmdLetter = (bits: number): string => CMD_LETTERS[31 - Math.clz32(bits)] ?? '?'
/** opt2char() */
export const optLetter = (bits: number): string => OPT_LETTERS[31 - Math.clz32(bits)] ?? '?'

// A word is "optional trailing" material unless it starts with '-' or '!'.
const isTrailingWord = (word: string | undefined): word is string =>
  word !== undefined && word[0] !== '-' && word[0] !== '!'

/**
 * Runs the getopt loop. `protocolByName` is getprotobyname(), which -p
 * consults before the built-in names; every other lookup comes later.
 */
export const parseInvocation = (
  program: string,
  args: readonly string[],
  protocolByName: (name: string) => number | undefined,
): Invocation => {
  const param = (message: string): Exit => parameterProblem(program, message)
  const g = new Getopt(program, args, OPTSTRING, LONG_OPTIONS)

  let command = 0
  let options = 0
  let invert = false
  let chain: string | undefined
  let rulenum = 0
  let proto = 0
  let flg = 0
  let invflg = 0
  let vianame = ''
  let mark = 0
  let outputsize = 0
  let tosand = 0
  let tosxor = 0
  let jumpto: string | undefined
  let rport = '0'
  let policy: string | undefined
  let shost: string | undefined
  let dhost: string | undefined
  let srcpts: string | undefined
  let dstpts: string | undefined
  let timeouts: [number, number, number] | undefined
  let warnings = true

  const addCommand = (newcmd: number, othercmds: number): void => {
    if (invert) throw param('unexpected ! flag')
    if (command & ~othercmds)
      throw param(`Can't use -${cmdLetter(newcmd)} with -${cmdLetter(command & ~othercmds)}\n`)
    command |= newcmd
  }

  const setOption = (option: number): void => {
    if (options & option) throw param(`multiple -${optLetter(option)} flags not allowed\n`)
    options |= option
    if (invert) {
      const inverse = INVERSE_FOR_OPTION[31 - Math.clz32(option)] ?? 0
      if (!inverse) throw param(`cannot have ! before -${optLetter(option)}\n`)
      invflg |= inverse
      invert = false
    }
  }

  // check_inverse(): a lone "!" sets the pending inversion.
  const checkInverse = (word: string | undefined): boolean => {
    if (word !== '!') return false
    if (invert) throw param("Multiple `!' flags not allowed")
    invert = true
    return true
  }

  // The argument of an option that may be written "-x ! ARG": argv[optind-1].
  const invertibleArgument = (optarg: string | undefined): string | undefined => {
    if (checkInverse(optarg)) g.optind++
    return g.argv[g.optind - 1]
  }
  // After a final "!" the original went on past argv: -s, -d and the port
  // options met the first environment word as a stray word (Try-line), -p
  // and -i crashed. We stop with the Try-line, after the option was counted.
  const pastEnd = (word: string | undefined): string => {
    if (word === undefined) throw tryHelpOnly(program)
    return word
  }

  const optionalChainWord = (optarg: string | undefined): string | undefined => {
    if (optarg !== undefined) return optarg
    return isTrailingWord(g.peek()) ? g.take() : undefined
  }

  const parseRulenumber = (word: string): number => {
    const n = stringToNumber(word, 1, 2 ** 31 - 1)
    if (n === -1) throw param(`Invalid rule number \`${word}'`)
    return n
  }

  const parseHexbyte = (word: string): number => {
    const { value, end } = strtol(word, 16)
    if (end === 0 || end !== word.length || value < 0 || value > 255) throw param(`invalid hexbyte \`${word}' specified`)
    return value
  }

  const parseTimeout = (word: string): number => {
    const n = stringToNumber(word, 0, 2 ** 31 - 1)
    if (n === -1) throw param(`invalid timeout value \`${word}' specified`)
    return n
  }

  const parseProtocol = (word: string): number => {
    const n = stringToNumber(word, 0, 65535)
    if (n !== -1) return n
    const builtin = ['all', 'tcp', 'udp', 'icmp'].indexOf(word.toLowerCase())
    return protocolByName(word) ?? [0, 6, 17, 1][builtin] ?? unknownProtocol(word)
  }
  const unknownProtocol = (word: string): never => {
    throw param(`unknown protocol \`${word}' specified`)
  }

  const parseTarget = (name: string): string => {
    if (name === '') throw param('Invalid target name (too short)')
    if (byteLength(name) > CHAIN_LABEL_MAX) throw param(`Invalid target name \`${name}' (${CHAIN_LABEL_MAX} chars max)`)
    if ([...name].some(isCSpace)) throw param(`Invalid target name \`${name}'`)
    return name
  }

  const parseMark = (word: string): void => {
    const signed = word[0] === '-' || word[0] === '+'
    const digits = signed ? word.slice(1) : word
    const { value, end } = strtoul(digits, 0)
    if (end === 0 || end !== digits.length) throw param(`Bad value \`${word}' for -m.\n`)
    mark = word[0] === '-' ? (2 ** 32 - value) % 2 ** 32 : value
    if (!signed) flg |= F.MARKABS
  }

  const parseInterface = (word: string): void => {
    if (byteLength(word) > IFNAMSIZ) throw param(`interface name \`${word}' must be shorter than IFNAMSIZ (${IFNAMSIZ})`)
    vianame = word
    if (vianame === '') flg |= F.WILDIF
    else if (vianame.endsWith('+')) {
      vianame = vianame.slice(0, -1)
      flg |= F.WILDIF
    }
  }

  const parseOutputsize = (word: string | undefined): void => {
    if (word === undefined) outputsize = 65535
    else {
      const n = stringToNumber(word, 0, 65535)
      if (n === -1) throw param(`-o argument must be 0-65535, not \`${word}'`)
      outputsize = n
    }
    flg |= F.NETLINK
  }

  const parsePolicy = (chainName: string, word: string): string => {
    if (word === 'MASQ') {
      if (chainName !== 'forward') throw param("`-P MASQ' only valid for `forward' chain.")
      return word
    }
    if (chainName !== 'input' && chainName !== 'output' && chainName !== 'forward')
      throw param('Can only set policy in built-in chains.')
    if (word !== 'ACCEPT' && word !== 'DENY' && word !== 'REJECT') throw param(`Invalid policy \`${word}' for -P`)
    return word
  }

  const handle = (code: string, optarg: string | undefined): void => {
    switch (code) {
      case 'A':
        addCommand(CMD.APPEND, 0)
        chain = optarg
        return
      case 'D':
        addCommand(CMD.DELETE, 0)
        chain = optarg
        if (isTrailingWord(g.peek())) {
          rulenum = parseRulenumber(g.take() ?? '')
          command = CMD.DELETE_NUM
        }
        return
      case 'C':
        addCommand(CMD.CHECK, 0)
        chain = optarg
        return
      case 'R':
        addCommand(CMD.REPLACE, 0)
        chain = optarg
        if (!isTrailingWord(g.peek())) throw param('-R requires a rule number')
        rulenum = parseRulenumber(g.take() ?? '')
        return
      case 'I':
        addCommand(CMD.INSERT, 0)
        chain = optarg
        rulenum = isTrailingWord(g.peek()) ? parseRulenumber(g.take() ?? '') : 1
        return
      case 'L':
        addCommand(CMD.LIST, CMD.ZERO | CMD.MASQUERADE)
        chain = optionalChainWord(optarg) ?? chain
        if (command & CMD.ZERO && chain !== undefined) throw param('-L with -Z does not allow chain to be specified')
        return
      case 'F':
        addCommand(CMD.FLUSH, 0)
        chain = optionalChainWord(optarg) ?? chain
        return
      case 'Z':
        addCommand(CMD.ZERO, CMD.LIST)
        chain = optionalChainWord(optarg) ?? chain
        if (command & CMD.LIST && chain !== undefined) throw param('-L with -Z does not allow chain to be specified')
        return
      case 'N':
        addCommand(CMD.NEW_CHAIN, 0)
        chain = optarg
        return
      case 'X':
        addCommand(CMD.DELETE_CHAIN, 0)
        chain = optionalChainWord(optarg) ?? chain
        return
      case 'P':
        addCommand(CMD.SET_POLICY, 0)
        chain = optarg
        if (!isTrailingWord(g.peek())) throw param('-P requires a chain and a policy')
        policy = parsePolicy(chain ?? '', g.take() ?? '')
        return
      case 'M':
        addCommand(CMD.MASQUERADE, CMD.LIST | CMD.SET_MASQUERADE)
        return
      case 'S': {
        addCommand(CMD.SET_MASQUERADE, CMD.MASQUERADE)
        if (!isTrailingWord(g.peek()) || !isTrailingWord(g.peek(1))) throw param('-S requires 3 timeout values')
        timeouts = [parseTimeout(optarg ?? ''), parseTimeout(g.take() ?? ''), parseTimeout(g.take() ?? '')]
        return
      }
      case 'h': {
        const next = g.peek()
        const icmp = optarg?.toLowerCase() === 'icmp' || next?.toLowerCase() === 'icmp'
        throw new Exit(0, '', icmp ? icmpHelpText() : helpText(program))
      }
      case 'p': {
        const word = invertibleArgument(optarg)
        setOption(OPT.PROTOCOL)
        proto = parseProtocol(pastEnd(word))
        if (proto === 0 && invflg & INV.PROTO) throw param('rule would never match protocol')
        return
      }
      case 's':
      case 'd': {
        const source = code === 's'
        const word = invertibleArgument(optarg)
        setOption(source ? OPT.SOURCE : OPT.DESTINATION)
        if (source) shost = pastEnd(word)
        else dhost = pastEnd(word)
        checkInverse(g.peek())
        const skip = invert ? 1 : 0
        if (isTrailingWord(g.peek(skip))) {
          g.optind += skip
          const ports = g.take()
          if (source) srcpts = ports
          else dstpts = ports
          setOption(source ? OPT.SRCPT : OPT.DSTPT)
        }
        return
      }
      case '1':
      case '2': {
        const word = invertibleArgument(optarg)
        setOption(code === '1' ? OPT.SRCPT : OPT.DSTPT)
        if (code === '1') srcpts = pastEnd(word)
        else dstpts = pastEnd(word)
        return
      }
      case 'j':
        setOption(OPT.JUMP)
        jumpto = parseTarget(optarg ?? '')
        if (jumpto === 'REDIRECT' && isTrailingWord(g.peek())) rport = g.take() ?? '0'
        return
      case 'i': {
        const word = invertibleArgument(optarg)
        setOption(OPT.VIANAME)
        parseInterface(pastEnd(word))
        return
      }
      case 'f':
        setOption(OPT.FRAGMENT)
        flg |= F.FRAG
        return
      case 'b':
        setOption(OPT.BIDIR)
        return
      case 'v':
        setOption(OPT.VERBOSE)
        return
      case 'm':
        setOption(OPT.MARK)
        parseMark(optarg ?? '')
        return
      case 'n':
        setOption(OPT.NUMERIC)
        return
      case 'l':
        setOption(OPT.PRINTK)
        flg |= F.PRN
        return
      case 'o':
        setOption(OPT.NETLINK)
        parseOutputsize(optarg ?? (isTrailingWord(g.peek()) ? g.take() : undefined))
        return
      case 't':
        setOption(OPT.TOS)
        if (!isTrailingWord(g.peek())) throw param('-t requires 2 hexbyte arguments')
        tosand = parseHexbyte(optarg ?? '')
        tosxor = parseHexbyte(g.take() ?? '')
        return
      case 'x':
        setOption(OPT.EXPANDED)
        return
      case 'y':
        setOption(OPT.TCPSYN)
        flg |= F.TCPSYN
        return
      case 'V':
        throw new Exit(0, '', invert ? 'Not ipchains 2.0\n' : `${PACKAGE_VERSION}\n`)
      case '3':
        if (invert) throw param('cannot have ! before --line-numbers')
        setOption(OPT.LINENUMBERS)
        return
      case 'W':
        if (invert) throw param('cannot have ! before --no-warnings')
        warnings = false
        return
      default:
        throw tryHelpOnly(program)
    }
  }

  for (;;) {
    const event = g.next()
    if (event.kind === 'end') break
    if (event.kind === 'error') throw tryHelpOnly(program, event.message)
    if (event.kind === 'nonoption') {
      if (event.word !== '!') throw tryHelpOnly(program)
      if (invert) throw param('multiple consecutive ! not allowed\n')
      invert = true
      continue
    }
    handle(event.code, event.optarg)
    invert = false
  }
  if (g.optind < g.argc) throw param('unknown arguments found on commandline')
  if (!command) throw param('no command specified')
  if (invert) throw param('nothing appropriate following !')
  return {
        command,
        options,
        chain,
        rulenum,
        proto,
        flg,
        invflg,
        vianame,
        mark,
        outputsize,
        tosand,
        tosxor,
        jumpto,
        rport,
        policy,
        shostnetworkmask: shost,
        dhostnetworkmask: dhost,
        srcpts,
        dstpts,
        timeouts,
        warnings,
  }
}
