// Every way ipchains 1.3.9 ends with an error, with its exact text.
import { Exit } from '../common/exit.ts'
import type { Errno } from './kernel.ts'

export const PACKAGE_VERSION = 'ipchains 1.3.9, 17-Mar-1999'

const tryHelp = (program: string): string => `Try \`${program} -h' or '${program} --help' for more information.\n`

/** exit_error(PARAMETER_PROBLEM, ...): message, then the Try-line; status 2. */
export const parameterProblem = (program: string, message: string): Exit =>
  new Exit(2, `${program}: ${message}\n${tryHelp(program)}`)

/** exit_error(OTHER_PROBLEM, ...) */
export const otherProblem = (program: string, message: string): Exit => new Exit(1, `${program}: ${message}\n`)

/** exit_error(VERSION_PROBLEM, ...) */
export const versionProblem = (program: string, message: string): Exit =>
  new Exit(3, `${program}: ${message}\nPerhaps ipchains or your kernel need to be upgraded.\n`)

/** exit_tryhelp(2), after getopt printed its own complaint (if any). */
export const tryHelpOnly = (program: string, getoptMessage = ''): Exit => new Exit(2, getoptMessage + tryHelp(program))

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
