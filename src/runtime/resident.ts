// legacyfw's resident processes (the -V set watcher, the runtime): one of each
// per network namespace, started on demand in the background. Each holds an
// abstract unix socket name (abstract names are per namespace, so a second
// one finds the name taken and exits) and ends when its namespace is gone
// for everyone else: not the host's, no longer named under /run/netns, and
// no other process in it.
import { spawn } from 'node:child_process'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { createServer } from 'node:net'

export const CHECK_EVERY_MS = 2000

/** Does a namespace's /proc/net/unix list the resident holding `name`? (Node binds the whole sun_path: the name is listed padded with NULs, "@".) */
export const residentListed = (procNetUnix: string, name: string): boolean => new RegExp(`@${name}@*$`, 'm').test(procNetUnix)

/** Is the resident holding `name` running in this network namespace? (/proc/net/unix is per namespace.) */
export const residentRunning = (name: string): boolean => {
  try {
    return residentListed(readFileSync('/proc/net/unix', 'utf8'), name)
  } catch {
    return false
  }
}

/** Starts `argv` in the background, detached, unless the resident holding `name` runs. */
export const startResident = (name: string, argv: readonly string[]): void => {
  if (residentRunning(name)) return
  const [command, ...args] = argv
  if (command === undefined) return
  // A command that cannot start (perl missing) must not fail the caller's commit.
  const child = spawn(command, args, { detached: true, stdio: 'ignore' })
  child.on('error', () => undefined)
  child.unref()
}

const inode = (path: string): number | undefined => {
  try {
    return statSync(path).ino
  } catch {
    return undefined
  }
}

/** Is anyone but the processes `mine` still using the network namespace `own`? */
const namespaceInUse = (own: number, mine: ReadonlySet<number>): boolean => {
  if (inode('/proc/1/ns/net') === own) return true
  const named = (() => {
    try {
      return readdirSync('/run/netns').some((n) => inode(`/run/netns/${n}`) === own)
    } catch {
      return false
    }
  })()
  if (named) return true
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p) && !mine.has(Number(p)))
    .some((p) => inode(`/proc/${p}/ns/net`) === own)
}

/**
 * Takes the name `name` and runs `body` once it holds it; exits at once if
 * another process holds it. `body` gets the check that the namespace is
 * gone (given the pids of its own children, which do not count as users)
 * and the release of the name (a resident about to end: one started now
 * runs). With `wait`, a name held by another is tried again until it is free
 * (a service waiting for an on-demand resident to end).
 */
export const holdResident = (
  name: string,
  body: (namespaceGone: (...children: number[]) => boolean, release: (then: () => void) => void) => void,
  wait = false,
): void => {
  const server = createServer()
  const listen = (): void => void server.listen(`\0${name}`)
  server.on('error', () => (wait ? setTimeout(listen, CHECK_EVERY_MS) : process.exit(0)))
  listen()
  server.once('listening', () => {
    const own = inode('/proc/self/ns/net') ?? 0
    body(
      (...children: number[]) => !namespaceInUse(own, new Set([process.pid, ...children])),
      (then) => server.close(() => then()),
    )
  })
}
