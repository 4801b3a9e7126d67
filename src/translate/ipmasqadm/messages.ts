// How the ipmasqadm modules end: exit_error() and friends.
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
  throw exitError(module, 'unknown arguments found on commandline', printed)
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
