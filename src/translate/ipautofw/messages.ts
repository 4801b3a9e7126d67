// Every user-visible text of the IP Autoforward Control Program v0.20, exact
// (typos included): its option complaints and -v progress text (parse.ts) and
// what it prints when the kernel says no (perror after socket() and
// setsockopt()). Its usage text, printed with no arguments at all, is the one
// thing in help.ts.
import { Exit } from '../common/exit.ts'

/** An error ends the program with status 1, on stdout after what it printed so far. */
export const autofwError = (printed: string, message: string): Exit => new Exit(1, '', `${printed}${message}\n`)

/** The same, for the command word, before anything was printed. */
export const commandError = (message: string): Exit => new Exit(1, '', message)

/** The command word's complaints, each with its newline. */
export const COMMAND = {
  invalid: 'Command must be either -A, -D, or -F\n',
  flushWithOptions: 'The flush command does not take options\n',
} as const

/** What ends the program (autofwError adds the newline). */
export const ERROR = {
  protocol: 'protocol must be either tcp or udp',
  controlProtocol: 'Control protocol must be either tcp or udp',
  illegalPorts: 'Illegal port numbers',
  /** A missing word is a NULL pointer to printf. */
  invalidAddress: (word = '(null)') => `Invalid IP address: ${word}`,
  rangeConflict: '-r cannot be used in conjunction with -p or -d',
  directConflict: '-d cannot be used in conjunction with -p or -r',
  portConflict: '-p cannot be used in conjunction with -r or -d',
  invalidOption: (word: string) => `Invalid option: ${word}`,
  noType: 'You must select a type of forwarding (direct, port, or range)',
} as const

/** What it prints on stdout and goes on. */
export const WARNING = {
  notAnOption: (word: string) => `${ERROR.invalidOption(word)}\n`,
  hostInSecureMode: 'Cannot use -h in secure mode\n',
  insecureControlPort: '-i cannot be specified with a control port\n',
} as const

/** The pieces of what -v prints before calling the kernel (sic: "Deleteing"). */
export const PROGRESS = {
  add: 'Adding autofwd ',
  delete: 'Deleteing autofwd ',
  flush: 'Flushing autoforward table\n',
  direct: (low: number, high: number) => `(direct) ports ${low} - ${high}\n`,
  port: (proto: string, visible: number, host: string, hidden: number) => `${proto} port ${visible} -> ${host}:${hidden} `,
  range: (proto: string, low: number, high: number) => `${proto} ports ${low} - ${high} `,
  fixedHost: (host: string) => `to fixed host ${host} `,
  control: (proto: string, port: number) => `via ${proto} ctl port ${port} `,
  usetime: 'U',
  secure: 'S',
} as const

const STRERROR = { EINVAL: 'Invalid argument', EPERM: 'Operation not permitted', EPROTONOSUPPORT: 'Protocol not supported' } as const

/** The raw socket could not be opened: no permission, or a kernel without the support. */
export const socketFailed = (errno: 'EPERM' | 'EPROTONOSUPPORT'): string => `socket(RAW): ${STRERROR[errno]}\n`

/** The only refusal of 2.0 ip_autofw: nothing to delete. */
export const setsockoptFailed = (errno: 'EINVAL'): string => `ipautofw: setsockopt failed: ${STRERROR[errno]}\n`
