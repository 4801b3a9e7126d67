// The ipchains 1.3.9 command line: the getopt loop of main(), option by
// option, with the original's handling of '!' and of the optional words
// that follow -s, -d, -D, -I, -R, -L, -F, -Z, -X, -P, -S, -j, -o and -t.
// Everything here is syntax; addresses, ports and the cross-option checks
// are resolved afterwards (validate.ts), in the original's order.
import { Exit } from '../common/exit.ts'
import { Getopt, type LongOption } from '../common/getopt.ts'
import { hexByteValue, isCSpace, strtoul, stringToNumber } from '../common/cnum.ts'
import { byteLength } from '../common/printf.ts'
import { helpText, icmpHelpText } from './help.ts'
import { NOT_VERSION_2, PACKAGE_VERSION, PROBLEM, parameterProblem, tryHelpOnly } from './messages.ts'
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
/** The invflg bit a '!' before the option sets (0: it may not have one). */
export const inverseOf = (option: number): number => INVERSE_FOR_OPTION[31 - Math.clz32(option)] ?? 0

/**
 * Options that set their option bit and a rule flag (0: none); -o also
 * takes a size. The rule flags are also how a rule is written back
 * (words.ts) and listed (list.ts).
 */
export const FLAG_OPTIONS = {
  b: { option: OPT.BIDIR, flag: 0 },
  f: { option: OPT.FRAGMENT, flag: F.FRAG },
  l: { option: OPT.PRINTK, flag: F.PRN },
  n: { option: OPT.NUMERIC, flag: 0 },
  o: { option: OPT.NETLINK, flag: F.NETLINK },
  v: { option: OPT.VERBOSE, flag: 0 },
  x: { option: OPT.EXPANDED, flag: 0 },
  y: { option: OPT.TCPSYN, flag: F.TCPSYN },
} as const
export type FlagLetter = keyof typeof FLAG_OPTIONS
const isFlagLetter = (code: string): code is FlagLetter => Object.hasOwn(FLAG_OPTIONS, code)
/** The flag options a rule shows, in the order of the listing's opt column. */
export const RULE_FLAG_LETTERS = ['y', 'f', 'l', 'o'] as const satisfies readonly FlagLetter[]
export type RuleFlagLetter = (typeof RULE_FLAG_LETTERS)[number]

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
const isTrailingWord = (word: string | undefined): word is string => word !== undefined && word[0] !== '-' && word[0] !== '!'

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** The getopt loop under way: main()'s variables so far, and the words left. */
interface ParseState {
  readonly program: string
  readonly g: Getopt
  readonly protocolByName: (name: string) => number | undefined
  /** A '!' waits for the option it inverts. */
  invert: boolean
  readonly inv: Mutable<Invocation>
}

const problem = (s: ParseState, message: string): Exit => parameterProblem(s.program, message)

const addCommand = (s: ParseState, newcmd: number, othercmds: number): void => {
  if (s.invert) throw problem(s, PROBLEM.unexpectedInvert)
  if (s.inv.command & ~othercmds) throw problem(s, PROBLEM.commandsClash(cmdLetter(newcmd), cmdLetter(s.inv.command & ~othercmds)))
  s.inv.command |= newcmd
}

const setOption = (s: ParseState, option: number): void => {
  if (s.inv.options & option) throw problem(s, PROBLEM.multipleOption(optLetter(option)))
  s.inv.options |= option
  if (s.invert) {
    const inverse = inverseOf(option)
    if (!inverse) throw problem(s, PROBLEM.cannotInvert(optLetter(option)))
    s.inv.invflg |= inverse
    s.invert = false
  }
}

// check_inverse(): a lone "!" sets the pending inversion.
const checkInverse = (s: ParseState, word: string | undefined): boolean => {
  if (word !== '!') return false
  if (s.invert) throw problem(s, PROBLEM.multipleInverts)
  s.invert = true
  return true
}

// The argument of an option that may be written "-x ! ARG": argv[optind-1].
const invertibleArgument = (s: ParseState, optarg: string | undefined): string | undefined => {
  if (checkInverse(s, optarg)) s.g.optind++
  return s.g.argv[s.g.optind - 1]
}

// After a final "!" the original went on past argv: -s, -d and the port
// options met the first environment word as a stray word (Try-line), -p
// and -i crashed. We stop with the Try-line, after the option was counted.
const pastEnd = (s: ParseState, word: string | undefined): string => {
  if (word === undefined) throw tryHelpOnly(s.program)
  return word
}

const optionalChainWord = (s: ParseState, optarg: string | undefined): string | undefined => {
  if (optarg !== undefined) return optarg
  return isTrailingWord(s.g.peek()) ? s.g.take() : undefined
}

const parseRulenumber = (s: ParseState, word: string): number => {
  const n = stringToNumber(word, 1, 2 ** 31 - 1)
  if (n === -1) throw problem(s, PROBLEM.invalidRuleNumber(word))
  return n
}

const parseHexbyte = (s: ParseState, word: string): number => {
  const value = hexByteValue(word)
  if (value === undefined) throw problem(s, PROBLEM.invalidHexbyte(word))
  return value
}

const parseTimeout = (s: ParseState, word: string): number => {
  const n = stringToNumber(word, 0, 2 ** 31 - 1)
  if (n === -1) throw problem(s, PROBLEM.invalidTimeout(word))
  return n
}

const parseProtocol = (s: ParseState, word: string): number => {
  const n = stringToNumber(word, 0, 65535)
  if (n !== -1) return n
  const builtin = [0, 6, 17, 1][['all', 'tcp', 'udp', 'icmp'].indexOf(word.toLowerCase())]
  const proto = s.protocolByName(word) ?? builtin
  if (proto === undefined) throw problem(s, PROBLEM.unknownProtocol(word))
  return proto
}

const parseTarget = (s: ParseState, name: string): string => {
  if (name === '') throw problem(s, PROBLEM.targetTooShort)
  if (byteLength(name) > CHAIN_LABEL_MAX) throw problem(s, PROBLEM.targetTooLong(name, CHAIN_LABEL_MAX))
  if ([...name].some(isCSpace)) throw problem(s, PROBLEM.invalidTarget(name))
  return name
}

const parseMark = (s: ParseState, word: string): void => {
  const signed = word[0] === '-' || word[0] === '+'
  const digits = signed ? word.slice(1) : word
  const { value, end } = strtoul(digits, 0)
  if (end === 0 || end !== digits.length) throw problem(s, PROBLEM.badMark(word))
  s.inv.mark = word[0] === '-' ? (2 ** 32 - value) % 2 ** 32 : value
  if (!signed) s.inv.flg |= F.MARKABS
}

const parseInterface = (s: ParseState, word: string): void => {
  if (byteLength(word) > IFNAMSIZ) throw problem(s, PROBLEM.interfaceTooLong(word, IFNAMSIZ))
  const wild = word === '' || word.endsWith('+')
  s.inv.vianame = word.endsWith('+') ? word.slice(0, -1) : word
  if (wild) s.inv.flg |= F.WILDIF
}

const parseOutputsize = (s: ParseState, word: string | undefined): number => {
  if (word === undefined) return 65535
  const n = stringToNumber(word, 0, 65535)
  if (n === -1) throw problem(s, PROBLEM.badOutputSize(word))
  return n
}

const parsePolicy = (s: ParseState, chainName: string, word: string): string => {
  if (word === 'MASQ') {
    if (chainName !== 'forward') throw problem(s, PROBLEM.masqPolicyChain)
    return word
  }
  if (chainName !== 'input' && chainName !== 'output' && chainName !== 'forward') throw problem(s, PROBLEM.policyChain)
  if (word !== 'ACCEPT' && word !== 'DENY' && word !== 'REJECT') throw problem(s, PROBLEM.invalidPolicy(word))
  return word
}

type Handler = (s: ParseState, optarg: string | undefined, code: string) => void

const setChainCommand = (s: ParseState, command: number, chain: string | undefined): void => {
  addCommand(s, command, 0)
  s.inv.chain = chain
}

/** A command whose argument is the chain. */
const chainCommand =
  (command: number): Handler =>
  (s, optarg) =>
    setChainCommand(s, command, optarg)

/** A command whose chain may follow as a word of its own; -L -Z take none. */
const optionalChainCommand =
  (command: number, othercmds: number): Handler =>
  (s, optarg) => {
    addCommand(s, command, othercmds)
    s.inv.chain = optionalChainWord(s, optarg) ?? s.inv.chain
    if (s.inv.command & CMD.LIST && s.inv.command & CMD.ZERO && s.inv.chain !== undefined) throw problem(s, PROBLEM.listZeroChain)
  }

const deleteRule: Handler = (s, optarg) => {
  setChainCommand(s, CMD.DELETE, optarg)
  if (!isTrailingWord(s.g.peek())) return
  s.inv.rulenum = parseRulenumber(s, s.g.take() ?? '')
  s.inv.command = CMD.DELETE_NUM
}

const replaceRule: Handler = (s, optarg) => {
  setChainCommand(s, CMD.REPLACE, optarg)
  if (!isTrailingWord(s.g.peek())) throw problem(s, PROBLEM.replaceNeedsNumber)
  s.inv.rulenum = parseRulenumber(s, s.g.take() ?? '')
}

const insertRule: Handler = (s, optarg) => {
  setChainCommand(s, CMD.INSERT, optarg)
  s.inv.rulenum = isTrailingWord(s.g.peek()) ? parseRulenumber(s, s.g.take() ?? '') : 1
}

const setPolicy: Handler = (s, optarg) => {
  setChainCommand(s, CMD.SET_POLICY, optarg)
  if (!isTrailingWord(s.g.peek())) throw problem(s, PROBLEM.policyNeedsWords)
  s.inv.policy = parsePolicy(s, s.inv.chain ?? '', s.g.take() ?? '')
}

const setTimeouts: Handler = (s, optarg) => {
  addCommand(s, CMD.SET_MASQUERADE, CMD.MASQUERADE)
  if (!isTrailingWord(s.g.peek()) || !isTrailingWord(s.g.peek(1))) throw problem(s, PROBLEM.setNeedsTimeouts)
  s.inv.timeouts = [parseTimeout(s, optarg ?? ''), parseTimeout(s, s.g.take() ?? ''), parseTimeout(s, s.g.take() ?? '')]
}

const help: Handler = (s, optarg) => {
  const icmp = optarg?.toLowerCase() === 'icmp' || s.g.peek()?.toLowerCase() === 'icmp'
  throw new Exit(0, '', icmp ? icmpHelpText() : helpText(s.program))
}

const protocol: Handler = (s, optarg) => {
  const word = invertibleArgument(s, optarg)
  setOption(s, OPT.PROTOCOL)
  s.inv.proto = parseProtocol(s, pastEnd(s, word))
  if (s.inv.proto === 0 && s.inv.invflg & INV.PROTO) throw problem(s, PROBLEM.neverMatchesProtocol)
}

// -s/-d ADDR [[!] PORTS]
const endpoint: Handler = (s, optarg, code) => {
  const source = code === 's'
  const word = invertibleArgument(s, optarg)
  setOption(s, source ? OPT.SOURCE : OPT.DESTINATION)
  if (source) s.inv.shostnetworkmask = pastEnd(s, word)
  else s.inv.dhostnetworkmask = pastEnd(s, word)
  checkInverse(s, s.g.peek())
  const skip = s.invert ? 1 : 0
  if (!isTrailingWord(s.g.peek(skip))) return
  s.g.optind += skip
  const ports = s.g.take()
  if (source) s.inv.srcpts = ports
  else s.inv.dstpts = ports
  setOption(s, source ? OPT.SRCPT : OPT.DSTPT)
}

// --sport/--icmp-type ('1') and --dport ('2')
const ports: Handler = (s, optarg, code) => {
  const word = invertibleArgument(s, optarg)
  setOption(s, code === '1' ? OPT.SRCPT : OPT.DSTPT)
  if (code === '1') s.inv.srcpts = pastEnd(s, word)
  else s.inv.dstpts = pastEnd(s, word)
}

const jump: Handler = (s, optarg) => {
  setOption(s, OPT.JUMP)
  s.inv.jumpto = parseTarget(s, optarg ?? '')
  if (s.inv.jumpto === 'REDIRECT' && isTrailingWord(s.g.peek())) s.inv.rport = s.g.take() ?? '0'
}

const viaInterface: Handler = (s, optarg) => {
  const word = invertibleArgument(s, optarg)
  setOption(s, OPT.VIANAME)
  parseInterface(s, pastEnd(s, word))
}

const flagOption = (s: ParseState, letter: FlagLetter): void => {
  setOption(s, FLAG_OPTIONS[letter].option)
  s.inv.flg |= FLAG_OPTIONS[letter].flag
}

const mark: Handler = (s, optarg) => {
  setOption(s, OPT.MARK)
  parseMark(s, optarg ?? '')
}

const netlink: Handler = (s, optarg) => {
  flagOption(s, 'o')
  s.inv.outputsize = parseOutputsize(s, optarg ?? (isTrailingWord(s.g.peek()) ? s.g.take() : undefined))
}

const tos: Handler = (s, optarg) => {
  setOption(s, OPT.TOS)
  if (!isTrailingWord(s.g.peek())) throw problem(s, PROBLEM.tosNeedsBytes)
  s.inv.tosand = parseHexbyte(s, optarg ?? '')
  s.inv.tosxor = parseHexbyte(s, s.g.take() ?? '')
}

const version: Handler = (s) => {
  throw new Exit(0, '', s.invert ? NOT_VERSION_2 : `${PACKAGE_VERSION}\n`)
}

const lineNumbers: Handler = (s) => {
  if (s.invert) throw problem(s, PROBLEM.invertedLineNumbers)
  setOption(s, OPT.LINENUMBERS)
}

const noWarnings: Handler = (s) => {
  if (s.invert) throw problem(s, PROBLEM.invertedNoWarnings)
  s.inv.warnings = false
}

const HANDLERS: Readonly<Record<string, Handler>> = {
  A: chainCommand(CMD.APPEND),
  D: deleteRule,
  C: chainCommand(CMD.CHECK),
  R: replaceRule,
  I: insertRule,
  L: optionalChainCommand(CMD.LIST, CMD.ZERO | CMD.MASQUERADE),
  F: optionalChainCommand(CMD.FLUSH, 0),
  Z: optionalChainCommand(CMD.ZERO, CMD.LIST),
  N: chainCommand(CMD.NEW_CHAIN),
  X: optionalChainCommand(CMD.DELETE_CHAIN, 0),
  P: setPolicy,
  M: (s) => addCommand(s, CMD.MASQUERADE, CMD.LIST | CMD.SET_MASQUERADE),
  S: setTimeouts,
  h: help,
  p: protocol,
  s: endpoint,
  d: endpoint,
  '1': ports,
  '2': ports,
  j: jump,
  i: viaInterface,
  m: mark,
  o: netlink,
  t: tos,
  V: version,
  '3': lineNumbers,
  W: noWarnings,
}

const handle = (s: ParseState, code: string, optarg: string | undefined): void => {
  const handler = HANDLERS[code]
  if (handler) handler(s, optarg, code)
  else if (isFlagLetter(code)) flagOption(s, code)
  else throw tryHelpOnly(s.program)
}

// A lone '!' inverts the option that follows; any other word is a stray.
const invertNext = (s: ParseState, word: string): void => {
  if (word !== '!') throw tryHelpOnly(s.program)
  if (s.invert) throw problem(s, PROBLEM.consecutiveInverts)
  s.invert = true
}

const INITIAL_INVOCATION: Invocation = {
  command: 0,
  options: 0,
  chain: undefined,
  rulenum: 0,
  proto: 0,
  flg: 0,
  invflg: 0,
  vianame: '',
  mark: 0,
  outputsize: 0,
  tosand: 0,
  tosxor: 0,
  jumpto: undefined,
  rport: '0',
  policy: undefined,
  shostnetworkmask: undefined,
  dhostnetworkmask: undefined,
  srcpts: undefined,
  dstpts: undefined,
  timeouts: undefined,
  warnings: true,
}

/**
 * Runs the getopt loop. `protocolByName` is getprotobyname(), which -p
 * consults before the built-in names; every other lookup comes later.
 */
export const parseInvocation = (program: string, args: readonly string[], protocolByName: (name: string) => number | undefined): Invocation => {
  const g = new Getopt(program, args, OPTSTRING, LONG_OPTIONS)
  const s: ParseState = { program, g, protocolByName, invert: false, inv: { ...INITIAL_INVOCATION } }
  for (let event = g.next(); event.kind !== 'end'; event = g.next()) {
    if (event.kind === 'error') throw tryHelpOnly(program, event.message)
    if (event.kind === 'nonoption') invertNext(s, event.word)
    else {
      handle(s, event.code, event.optarg)
      s.invert = false
    }
  }
  if (g.optind < g.argc) throw problem(s, PROBLEM.unknownArguments)
  if (!s.inv.command) throw problem(s, PROBLEM.noCommand)
  if (s.invert) throw problem(s, PROBLEM.nothingAfterInvert)
  return s.inv
}
