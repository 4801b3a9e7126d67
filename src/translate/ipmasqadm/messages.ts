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
export const refuseLeftovers = (module: string, g: { readonly optind: number; readonly argc: number; readonly argv: readonly string[] }, printed: Printed): void => {
  if (g.optind >= g.argc) return
  printed.stdout += leftoverLine(g.optind, g.argv)
  throw exitError(module, 'unknown arguments found on commandline', printed)
}

const STRERROR = { EINVAL: 'Invalid argument', ESRCH: 'No such process', EPERM: 'Operation not permitted' } as const
export type Errno = keyof typeof STRERROR
export const strerror = (errno: Errno): string => STRERROR[errno]
