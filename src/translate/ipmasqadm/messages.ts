// Every user-visible text of ipmasqadm 0.4 and its portfw (portfw.c 1.6) and
// mfw (mfw.c 0.1) modules, exact: how they end (exit_error() and friends),
// their usage texts, the complaints of their option parsing, herror() of a
// name lookup, the header lines of their listings, and perror() after a
// failed kernel call. The /proc files the listings read are the kernel's
// (proc.ts).
import { Exit } from '../common/exit.ts'

/** exit_error(status, msg): "MODULE: msg" on stderr. */
export const exitError = (module: string, message: string, printed: Printed, status = 2): Exit =>
  new Exit(status, `${printed.stderr}${module}: ${message}\n`, printed.stdout)

/** What a module printed before it ended. */
export interface Printed {
  stdout: string
  stderr: string
}

export const helpExit = (text: string, printed: Printed): Exit => new Exit(0, printed.stderr, printed.stdout + text)

/** The leftover-arguments debug line the modules print before their error. */
export const leftoverLine = (optind: number, argv: readonly string[]): string =>
  `optind=${optind} (${argv[optind - 1] ?? '(null)'}) argc=${argv.length}\n`

/** The modules' check after getopt: words left over end the command. */
export const refuseLeftovers = (
  module: string,
  g: { readonly optind: number; readonly argc: number; readonly argv: readonly string[] },
  printed: Printed,
): void => {
  if (g.optind >= g.argc) return
  printed.stdout += leftoverLine(g.optind, g.argv)
  throw exitError(module, ERROR.unknownArguments, printed)
}

const STRERROR = {
  EINVAL: 'Invalid argument',
  ESRCH: 'No such process',
  EPERM: 'Operation not permitted',
  EPROTONOSUPPORT: 'Protocol not supported',
} as const
export type Errno = keyof typeof STRERROR
export const strerror = (errno: Errno): string => STRERROR[errno]

/** ipmasqadm's compiled-in module directory (man page FILES). */
export const LIBDIR = '/usr/lib/ipmasqadm'

export const usage = (program: string): string => `usage: ${program} MODULE [opts] \n`

export const noSuchModule = (module: string): string =>
  `dlopen(): ${LIBDIR}/${module}.so: cannot open shared object file: No such file or directory\n`

/** Why a raw socket could not be opened: no permission, or a kernel without the support. */
export type SocketErrno = 'EPERM' | 'EPROTONOSUPPORT'

export const socketCreationFailed = (module: string, errno: SocketErrno): string => `${module}: socket creation failed: ${strerror(errno)}\n`

export const setsockoptFailed = (module: string, errno: Errno): string => `${module}: setsockopt failed: ${strerror(errno)}\n`

/** A table the module cannot use (legacyfw's own words: a record it did not write, a refused commit). */
export const tableProblem = (program: string, reason: string): string => `${program}: ${reason}\n`

/** The messages of exit_error() in the modules' option parsing. */
export const ERROR = {
  unknownArguments: 'unknown arguments found on commandline',
  multipleCommands: 'multiple commands specified',
  multipleProtocols: 'multiple protocols specified',
  invalidProtocol: 'invalid protocol specified',
  multipleLocal: 'multiple local address/port specified',
  illegalLocal: 'illegal local address/port specified',
  multipleDestinations: 'multiple destinations specified',
  illegalDestination: 'illegal destination specified',
  illegalPreference: 'illegal preference value specified',
  insufficientOptions: 'insufficient options specified',
  incompatibleOptions: 'incompatible options specified',
} as const

/** herror() after gethostbyname() failed in parse_addressport(). */
export const unknownHost = (name: string): string => `${name}: Unknown host\n`

/** The end of both modules' usage texts: the redirection target and its preference. */
const redirectHelp = (defaultPref: number): string =>
  'RADDR is the remote address.\n' +
  'RPORT is the port being redirected to.\n' +
  `PREF  is the preference level (load balancing, default=${defaultPref})\n`

/** portfw's usage text, for module name `m`. */
export const portfwHelp = (m: string, defaultPref: number): string =>
  `Usage: ${m} -a -P PROTO -L LADDR LPORT -R RADDR RPORT [-p PREF] add entry\n` +
  `       ${m} -d -P PROTO -L LADDR LPORT [-R RADDR RPORT]         delete entry\n` +
  `       ${m} -f                                                  clear table\n` +
  `       ${m} -l                                                  list table\n` +
  `       ${m} <args> -n                                           no names\n\n` +
  'PROTO is the protocol, can be "tcp" or "udp"\n' +
  'LADDR is the local interface receiving packets to be forwarded.\n' +
  'LPORT is the port being redirected.\n' +
  redirectHelp(defaultPref)

/** mfw's usage text, for module name `m`. */
export const mfwHelp = (m: string, defaultPref: number): string =>
  `Usage: ${m} -A -m FWMARK -r RADDR RPORT [-p PREF] add entry\n` +
  `       ${m} -D -m FWMARK [-r RADDR RPORT]         delete entry\n` +
  `       ${m} -E -m FWMARK [-r RADDR RPORT]         edit entry\n` +
  `       ${m} -S -m FWMARK                          force scheduling\n` +
  `       ${m} -F                                    clear table\n` +
  `       ${m} -L                                    list table\n` +
  `       ${m} <args> -n                             no names\n\n` +
  'FWMARK is the fwmark being redirected.\n' +
  redirectHelp(defaultPref)

/** The header line of `portfw -l`: printf("%-4s %-20s %-20s %8s %8s %5s %5s\n", ...). */
export const PORTFW_LISTING_HEADER = 'prot localaddr            rediraddr               lport    rport  pcnt  pref\n'

/** The header line of `mfw -L`: printf("%-8s %-20s %8s %5s %5s\n", ...). */
export const MFW_LISTING_HEADER = 'fwmark   rediraddr               rport  pcnt  pref\n'
