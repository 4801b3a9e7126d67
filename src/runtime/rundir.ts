// Per-run files (the fifos of `legacyfw run`, the sandbox of `legacyfw
// translate`) live in one runtime directory. Each run removes its own
// subdirectory when it ends; one whose process was killed is swept away by
// the next run. A subdirectory is named after its process's pid and start
// time, since pids are reused.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const runtimeRoot = (): string => {
  const uid = process.getuid?.()
  if (uid === 0) return '/run/legacyfw'
  const xdg = process.env['XDG_RUNTIME_DIR']
  return xdg ? join(xdg, 'legacyfw') : join(tmpdir(), `legacyfw-${uid ?? 'user'}`)
}

/** The start time of a process (field 22 of its stat), or undefined when it is gone. */
const startTime = (pid: number): string | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}

const OWNER = /^[a-z]+-(\d+)-(\d+)-/

/** Removes the run directories whose process no longer runs. */
export const sweepRunDirs = (root: string): void => {
  for (const name of readdirSync(root)) {
    const owner = OWNER.exec(name)
    if (owner && startTime(Number(owner[1])) !== owner[2]) rmSync(join(root, name), { recursive: true, force: true })
  }
}

/** A new directory (mode 0700) for this process's run of `kind`, after sweeping those left by killed runs. */
export const makeRunDir = (kind: string): string => {
  const root = runtimeRoot()
  mkdirSync(root, { recursive: true, mode: 0o755 })
  sweepRunDirs(root)
  return mkdtempSync(join(root, `${kind}-${process.pid}-${startTime(process.pid)}-`))
}
