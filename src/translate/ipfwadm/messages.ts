// Every way ipfwadm 2.3.0 ends with an error, with its exact text.
import { Exit } from '../common/exit.ts'

export const PACKAGE_VERSION = 'ipfwadm 2.3.0, 1996/07/30'

const tryHelp = (program: string): string => `Try \`${program} -h' for more information.\n`

/** exit_error(status, msg) and the fprintf + exit_tryhelp pairs: message, Try-line. */
export const usageError = (program: string, message: string, status = 2): Exit =>
  new Exit(status, `${program}: ${message}\n${tryHelp(program)}`)

/** exit_tryhelp(2) after getopt's own complaint. */
export const tryHelpOnly = (program: string, getoptMessage = ''): Exit => new Exit(2, getoptMessage + tryHelp(program))

/** A failed setsockopt(): perror() with a fixed prefix; the command exits -1 (255). */
export const setsockoptFailed = (strerror: string): string => `ipfwadm: setsockopt failed: ${strerror}\n`
