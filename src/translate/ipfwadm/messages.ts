// Every way ipfwadm 2.3.0 ends with an error, with its exact text.
import { Exit } from '../common/exit.ts'
import type { Category } from './model.ts'

export const PACKAGE_VERSION = 'ipfwadm 2.3.0, 1996/07/30'

const tryHelp = (program: string): string => `Try \`${program} -h' for more information.\n`

const q = (word: string): string => `"${word}"`

/** The messages of exit_error() and the fprintf + exit_tryhelp pairs, exact. */
export const USAGE = {
  multipleOption: (letter: string) => `multiple -${letter} flags not allowed`,
  multipleCategories: 'multiple categories specified',
  multipleCommands: 'multiple commands specified',
  invalidPolicy: (word: string) => `invalid policy ${q(word)} specified`,
  invalidDirection: (word: string) => `invalid direction ${q(word)} specified`,
  invalidProtocol: (word: string) => `invalid protocol ${q(word)} specified`,
  multipleRanges: 'multiple ranges not allowed',
  tooManyPorts: (max: number) => `too many ports specified (maximum ${max})`,
  invalidHexbyte: (word: string) => `invalid hexbyte ${q(word)} specified`,
  invalidTimeout: (word: string) => `invalid timeout value ${q(word)} specified`,
  hostNotFound: (word: string) => `host ${q(word)} not found`,
  hostNotUnique: (word: string) => `hostname ${q(word)} does not specify a unique address`,
  timeoutsNeeded: '-s requires 3 timeout values',
  tosNeedsBytes: '-t requires 2 hexbyte arguments',
  unknownArguments: 'unknown arguments found on commandline',
  noCommand: 'no command specified',
  noCategory: 'missing -A, -F, -I, -O, or -M flag',
  checkNeedsFirewall: 'specify either -F, -I, or -O for checking a packet',
  policyNeedsFirewall: 'specify either -F, -I, or -O for changing the policy',
  policyRequired: 'policy required for firewall entries',
  policyNotAllowed: 'no policy allowed with non-firewall entries',
  masqNeedsListOrTimeouts: '-M only allowed in combination with -s or -l command',
  timeoutsNeedMasq: 'setting masquerading timeouts requires -M flag',
  bidirOnlyIad: 'bidirectional flag (-b) only allowed with insert/append/delete',
  printkOnlyIad: 'kernel print flag (-o) only allowed with insert/append/delete',
  redirectOnlyIad: 'port redirection (-r) only allowed with insert/append/delete',
  tosOnlyIad: 'tos values (-t) only allowed with insert/append/delete',
  protocolNotAllowed: 'no protocol (-P) allowed with this command',
  protocolRequired: 'protocol (-P) required for this command',
  checkNeedsProtocol: 'specific protocol required for check command',
  viaAddrNotAllowed: 'no interface address (-V) allowed with this command',
  viaAddrRequired: 'interface address (-V) required for this command',
  viaNameNotAllowed: 'no interface name (-W) allowed with this command',
  viaNameRequired: 'interface name (-W) required for this command',
  icmpDestinationPorts: 'ICMP types only allowed with -S, not with -D',
  portsWithoutProtocol: 'no ports allowed without specific protocol',
  checkNeedsPorts: 'one port required with source/destination address',
  checkNeedsIcmpType: 'ICMP type required after source address',
  redirectNeedsInput: 'redirecting only allowed in combination with -I',
  redirectIcmp: 'redirecting not allowed with protocol ICMP',
  masqNeedsForward: 'masquerading only allowed in combination with -F',
  masqIcmp: 'masquerading not allowed with protocol ICMP',
  masqNeedsAccept: 'masquerading only allowed with policy accept',
  invalidIcmpType: (word: string) => `invalid ICMP type ${q(word)} specified`,
  invalidPort: (word: string) => `invalid port/service ${q(word)} specified`,
  invalidPortRange: (lo: number, hi: number) => `invalid range of ports (${lo} > ${hi})`,
  invalidMask: (text: string) => `invalid mask ${q(text)} specified`,
  hostNetworkNotFound: (name: string) => `host/network ${q(name)} not found`,
  addressNotAllowed: (what: string, letter: string) => `no ${what} address (-${letter}) allowed with this command`,
  addressRequired: (what: string, letter: string) => `${what} address (-${letter}) required for this command`,
  tooManyPortsRedirect: (max: number) => `too many ports specified (maximum ${max} when using -r option)`,
} as const

/** strerror() of the errnos the kernel calls fail with. */
export const STRERROR = {
  EINVAL: 'Invalid argument',
  ECONNABORTED: 'Software caused connection abort',
} as const

/** What -c prints for the packet's fate. */
export const checkedText = (fate: 'accepted' | 'masqueraded' | 'denied' | 'rejected'): string => `packet ${fate}\n`

/** exit_error(status, msg) and the fprintf + exit_tryhelp pairs: message, Try-line. */
export const usageError = (program: string, message: string, status = 2): Exit => new Exit(status, `${program}: ${message}\n${tryHelp(program)}`)

/** exit_tryhelp(2) after getopt's own complaint. */
export const tryHelpOnly = (program: string, getoptMessage = ''): Exit => new Exit(2, getoptMessage + tryHelp(program))

/** A failed setsockopt(): perror() with a fixed prefix; the command exits -1 (255). */
export const setsockoptFailed = (strerror: string): string => `ipfwadm: setsockopt failed: ${strerror}\n`

/** The /proc file each listing reads. */
const PROC_FILES: Record<Category | 'masquerading', string> = {
  input: '/proc/net/ip_input',
  output: '/proc/net/ip_output',
  forward: '/proc/net/ip_forward',
  accounting: '/proc/net/ip_acct',
  masquerading: '/proc/net/ip_masquerade',
}

/** A listing whose /proc file cannot be opened. */
export const cannotOpenProcFile = (program: string, list: Category | 'masquerading'): string => `${program}: cannot open file ${PROC_FILES[list]}\n`

/** socket() failed: perror() with a fixed prefix. */
export const socketCreationFailed = (denied: boolean): string =>
  `ipfwadm: socket creation failed: ${denied ? 'Operation not permitted' : 'Protocol not available'}\n`

/** Any other failed kernel call, with the fixed prefix. */
export const kernelError = (text: string): string => `ipfwadm: ${text}\n`

export const MASQ_LISTING_TITLE = 'IP masquerading entries\n'

/** list_masq() meeting a line it does not understand, after the title. */
export const unexpectedInputData = (program: string): Exit => usageError(program, 'unexpected input data', 1)
