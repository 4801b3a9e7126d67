// Every way ipchains 1.3.9 ends with an error, with its exact text.
import { Exit } from '../common/exit.ts'
import type { Errno } from './kernel.ts'

export const PACKAGE_VERSION = 'ipchains 1.3.9, 17-Mar-1999'

const tryHelp = (program: string): string => `Try \`${program} -h' or '${program} --help' for more information.\n`

/** exit_error(PARAMETER_PROBLEM, ...): message, then the Try-line; status 2. */
export const parameterProblem = (program: string, message: string): Exit => new Exit(2, `${program}: ${message}\n${tryHelp(program)}`)

/** exit_error(OTHER_PROBLEM, ...) */
export const otherProblem = (program: string, message: string): Exit => new Exit(1, `${program}: ${message}\n`)

/** exit_error(VERSION_PROBLEM, ...) */
export const versionProblem = (program: string, message: string): Exit =>
  new Exit(3, `${program}: ${message}\nPerhaps ipchains or your kernel need to be upgraded.\n`)

/** exit_tryhelp(2), after getopt printed its own complaint (if any). */
export const tryHelpOnly = (program: string, getoptMessage = ''): Exit => new Exit(2, getoptMessage + tryHelp(program))

/** `-V` after a `!` (sic). */
export const NOT_VERSION_2 = 'Not ipchains 2.0\n'

const q = (word: string): string => `\`${word}'`

/** The texts of exit_error(PARAMETER_PROBLEM, ...), exact: some end in a stray newline. */
export const PROBLEM = {
  // the getopt loop (parse.ts)
  unexpectedInvert: 'unexpected ! flag',
  commandsClash: (command: string, other: string) => `Can't use -${command} with -${other}\n`,
  multipleOption: (letter: string) => `multiple -${letter} flags not allowed\n`,
  cannotInvert: (letter: string) => `cannot have ! before -${letter}\n`,
  multipleInverts: "Multiple `!' flags not allowed",
  consecutiveInverts: 'multiple consecutive ! not allowed\n',
  nothingAfterInvert: 'nothing appropriate following !',
  invalidRuleNumber: (word: string) => `Invalid rule number ${q(word)}`,
  invalidHexbyte: (word: string) => `invalid hexbyte ${q(word)} specified`,
  invalidTimeout: (word: string) => `invalid timeout value ${q(word)} specified`,
  unknownProtocol: (word: string) => `unknown protocol ${q(word)} specified`,
  targetTooShort: 'Invalid target name (too short)',
  targetTooLong: (name: string, max: number) => `Invalid target name ${q(name)} (${max} chars max)`,
  invalidTarget: (name: string) => `Invalid target name ${q(name)}`,
  badMark: (word: string) => `Bad value ${q(word)} for -m.\n`,
  interfaceTooLong: (word: string, max: number) => `interface name ${q(word)} must be shorter than IFNAMSIZ (${max})`,
  badOutputSize: (word: string) => `-o argument must be 0-65535, not ${q(word)}`,
  masqPolicyChain: "`-P MASQ' only valid for `forward' chain.",
  policyChain: 'Can only set policy in built-in chains.',
  invalidPolicy: (word: string) => `Invalid policy ${q(word)} for -P`,
  replaceNeedsNumber: '-R requires a rule number',
  listZeroChain: '-L with -Z does not allow chain to be specified',
  policyNeedsWords: '-P requires a chain and a policy',
  setNeedsTimeouts: '-S requires 3 timeout values',
  neverMatchesProtocol: 'rule would never match protocol',
  tosNeedsBytes: '-t requires 2 hexbyte arguments',
  invertedLineNumbers: 'cannot have ! before --line-numbers',
  invertedNoWarnings: 'cannot have ! before --no-warnings',
  unknownArguments: 'unknown arguments found on commandline',
  noCommand: 'no command specified',
  // the checks after it (validate.ts)
  portsNeedProtocol: 'can only specify ports for icmp, tcp or udp',
  invalidIcmpType: (word: string) => `invalid ICMP type ${q(word)} specified`,
  invalidPort: (word: string) => `invalid port/service ${q(word)} specified`,
  invalidMask: (text: string) => `invalid mask ${q(text)} specified`,
  hostNotFound: (name: string) => `host/network ${q(name)} not found`,
  ambiguousIcmp: (word: string, first: string, second: string) => `Ambiguous ICMP ${q(word)} : ${q(first)} or ${q(second)}?`,
  icmpNameWithPort: "Can't use ICMP name and destination port together",
  inexactIcmpCheck: 'Must specify exact ICMP type for testing',
  invertedIcmpName: "Can't invert named ICMP types",
  invertMultipleAddresses: '! not allowed with multiple source or destination IP addresses',
  bidirMultipleAddresses: '-b not allowed with multiple source or destination IP addresses',
  portsWithoutProtocol: 'no ports allowed without specific protocol',
  synNeedsTcp: '-y only allowed with TCP protocol',
  portsWithFragment: 'no ports allowed with -f',
  synWithFragment: '-y not allowed with -f',
  checkNeedsPorts: 'one port required with source/destination address for -C',
  invertWithCheck: '! not allowed with -C',
  redirectNeedsTcpUdp: 'redirecting only allowed with TCP or UDP',
  masqChain: 'masquerading not allowed for input and output chains',
  redirectChain: 'redirect not allowed for output and forward chains',
  replaceNeedsUniqueAddress: 'Replacement rule does not specify a unique address',
  chainTooLong: (chain: string) => `chain name ${q(chain)} too long (must be under 8 chars)`,
  tosBitZero: 'TOS manipulation cannot alter bit 0 (RFC1349)\n',
  tosMultipleBits: 'TOS manipulation cannot set multiple TOS bits (RFC1349)\n',
  masqNeedsListOrSet: '-M/--masquerading requires -L/--list or -S/--set',
  optionRequired: (letter: string) => `You need to supply the ${q(`-${letter}`)} option for this command\n`,
  optionIllegal: (letter: string) => `Illegal option ${q(`-${letter}`)} with this command\n`,
} as const

/** Warnings ipchains prints on stdout and goes on. */
export const WARNING = {
  forwardingOff: "Warning: you must enable IP forwarding for packets to be forwarded at all:\n Use `echo 1 > /proc/sys/net/ipv4/ip_forward'\n",
  tosMultipleBits: (name: string, tos: number) =>
    `Warning: TOS manipulation may set multiple TOS bits for ${name} TOS (0x${tos.toString(16).padStart(2, '0')})\n`,
} as const

/** What -v says before each chain it flushes, zeroes or deletes. */
export const chainActionText = (action: 'Flushing' | 'Zeroing' | 'Deleting', chain: string): string => `${action} chain ${q(chain)}\n`

/** What ipchains-save and ipchains-restore say on stderr as they go. */
export const PROGRESS = {
  saving: (chain: string) => `Saving ${q(chain)}.\n`,
  restoring: (chain: string) => `Restoring ${q(chain)}.\n`,
  chainExists: (chain: string) => `Chain ${q(chain)} already exists. Skip or flush? [S/f]? `,
  skipping: (chain: string) => `Skipping ${q(chain)}.\n`,
  flushing: (chain: string) => `Flushing ${q(chain)}.\n`,
} as const

export type KernelOp = 'insert' | 'append' | 'replace' | 'delete' | 'delete-num' | 'check' | 'new-chain' | 'delete-chain' | 'other'

const STRERROR: Record<Errno, string> = {
  ENOENT: 'No such file or directory',
  EINVAL: 'Invalid argument',
  EEXIST: 'File exists',
  EBUSY: 'Device or resource busy',
  ENOTEMPTY: 'Directory not empty',
}

/** libipfwc's ipfwc_strerror(): function-specific texts first, then strerror. */
export const kernelErrorText = (op: KernelOp, errno: Errno, target = ''): string => {
  if (errno === 'ENOENT' && (op === 'insert' || op === 'append' || op === 'replace')) {
    if (target === 'MASQ') return "No target by that name (Maybe this kernel doesn't support masquerading?)"
    if (target === 'REDIRECT') return "No target by that name (Maybe this kernel doesn't support transparent proxying?)"
    return 'No target by that name'
  }
  if (errno === 'ENOENT') return 'No chain by that name'
  if (op === 'delete-chain' && errno === 'ENOTEMPTY') return 'Chain is not empty'
  if (op === 'new-chain' && errno === 'EEXIST') return 'Chain already exists'
  if (op === 'check' && errno === 'EINVAL') return 'bad arguments (does that interface exist?)'
  if ((op === 'delete' || op === 'insert' || op === 'delete-num' || op === 'replace') && errno === 'EINVAL')
    return 'bad rule (does a matching rule exist in that chain?)'
  return STRERROR[errno]
}

/** The line printed for a failed kernel call; the fixed prefix is not ARGV0. */
export const kernelError = (text: string): string => `ipchains: ${text}\n`

/** Why the kernel could not be used at all, in libipfwc's words (a listing needs no root). */
export const kernelUnavailableText = (denied: boolean, listing: boolean): string => {
  if (!denied) return 'Incompatible with this kernel'
  return listing ? 'Permission denied' : 'Permission denied (you must be root)'
}

/** -M -L when the masquerading entries cannot be read. */
export const masqUnreadable = (program: string): Exit => otherProblem(program, "cannot open file `/proc/net/ip_masquerade'")

export const SAVE_USAGE = 'Usage: ipchains-save [chain] [-v]\n'

export const RESTORE_USAGE = 'Usage: ipchains-restore [-v] [-f] [-p]\n'
