// Files legacyfw reads on a user's behalf (a script, a saved ruleset, a
// companion file, an expected translation): one clear reason when a file
// cannot be used, and never more than a bounded amount read into memory,
// whatever the path names (a directory, a device, /dev/zero, a fifo).
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs'

/** Larger inputs are refused (era scripts are kilobytes; saved rule sets a few megabytes). */
export const MAX_INPUT_BYTES = 16 * 1024 * 1024

/** A file that cannot be used; the message is "PATH: REASON". */
export class InputError extends Error {}

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
}

const openForReading = (path: string): number => {
  try {
    // O_NONBLOCK: opening a fifo must not wait for a writer.
    return openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? ''
    throw new InputError(`${path}: ${REASONS[code] ?? code}`)
  }
}

/** The bytes of a regular file of at most MAX_INPUT_BYTES. */
export const readInputFile = (path: string): Buffer => {
  const fd = openForReading(path)
  try {
    const stat = fstatSync(fd)
    if (stat.isDirectory()) throw new InputError(`${path}: Is a directory`)
    if (!stat.isFile()) throw new InputError(`${path}: not a regular file`)
    if (stat.size > MAX_INPUT_BYTES) throw new InputError(`${path}: too large (${stat.size} bytes; at most ${MAX_INPUT_BYTES})`)
    // One byte more than its size: a file that grows meanwhile is refused too.
    const buffer = Buffer.alloc(stat.size + 1)
    let length = 0
    for (let n = 1; n > 0 && length < buffer.length; length += n) n = readSync(fd, buffer, length, buffer.length - length, null)
    if (length > stat.size) throw new InputError(`${path}: changed while being read`)
    return buffer.subarray(0, length)
  } finally {
    closeSync(fd)
  }
}
