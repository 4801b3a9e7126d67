// What the legacy command mains share: printing an outcome, and turning the
// ways a command ends early into output and an exit status.
import { Exit } from '../translate/common/exit.ts'
import { DecodeError } from '../translate/nft/kernel-table.ts'
import { NftMissing } from '../runtime/nft.ts'
import { KernelUnavailable } from '../runtime/store.ts'
import type { Sys } from '../runtime/sys.ts'

export interface Printed {
  readonly stdout: string
  readonly stderr: string
  readonly status: number
}

export const print = (sys: Sys, outcome: Printed): number => {
  if (outcome.stdout) sys.out(outcome.stdout)
  if (outcome.stderr) sys.err(outcome.stderr)
  return outcome.status
}

/**
 * Runs a command: an Exit (help, usage error) prints what it carries, a
 * table that cannot be read back is reported under the tool's name.
 */
export const runCommand = async (tool: string, sys: Sys, command: () => Promise<number>): Promise<number> => {
  try {
    return await command()
  } catch (e) {
    if (e instanceof Exit) return print(sys, e)
    if (e instanceof DecodeError) return print(sys, { stdout: '', stderr: `${tool}: ${e.message}\n`, status: 1 })
    throw e
  }
}

/** Where a command that cannot work on this host points (src/cli/doctor.ts checks what it needs). */
export const DOCTOR_HINT = 'legacyfw doctor tells more'

/** What the host lacks when nft or nf_tables is missing; undefined for any other failure. */
export const missingRequirement = (e: unknown): string | undefined =>
  e instanceof NftMissing
    ? 'nft not found'
    : e instanceof KernelUnavailable && e.reason === 'unsupported'
      ? 'this kernel has no nftables'
      : undefined

/**
 * A one-line error, ending with the requirement the host lacks and the
 * pointer to legacyfw doctor when that is why the command failed (no era
 * kernel lacked them, so the legacy words alone cannot say it).
 */
export const withDoctorHint = (line: string, e: unknown): string => {
  const why = missingRequirement(e)
  return why === undefined ? line : `${line.replace(/\n$/, '')} (${why}; ${DOCTOR_HINT})\n`
}

/** Was the kernel refused for want of privilege (rather than unable)? */
export const permissionDenied = (e: Error): boolean => e instanceof KernelUnavailable && e.reason === 'permission'

// Names made by this process so far: `legacyfw run` serves every command of
// a script from one process, often several within a millisecond.
let made = 0

/**
 * Counter names for a read-free append: unique without knowing the table
 * (time and process, then a sequence within the process; a clash makes the
 * kernel refuse the append, and the normal path runs instead).
 */
export const freshCounter = (): string => `a${Date.now().toString(36)}${process.pid.toString(36)}x${(made++).toString(36)}`
