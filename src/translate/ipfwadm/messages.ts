// Every way ipfwadm 2.3.0 ends with an error, with its exact text.
import { Exit } from '../common/exit.ts'
import type { Category } from './model.ts'

export const PACKAGE_VERSION = 'ipfwadm 2.3.0, 1996/07/30'

const tryHelp = (program: string): string => `Try \`${program} -h' for more information.\n`

/** exit_error(status, msg) and the fprintf + exit_tryhelp pairs: message, Try-line. */
export const usageError = (program: string, message: string, status = 2): Exit =>
  new Exit(status, `${program}: ${message}\n${tryHelp(program)}`)

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
