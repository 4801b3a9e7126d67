// The daemon that keeps ipfwadm's -V sets current (translate/ipfwadm/via.ts)
// while addresses change, one per network namespace: it listens on an
// abstract unix socket (abstract names are per namespace, so a second one
// finds the name taken and exits) and follows `ip monitor address link`.
//
// It exits when the table has no via set left, or when its namespace is
// gone for everyone else: not the host's, no longer named under
// /run/netns, and no other process in it.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { viaResyncText, viaSetsOf } from '../translate/ipfwadm/via.ts'
import { TABLE_NAME } from '../translate/ipfwadm/render.ts'
import { readInterfaces } from './interfaces.ts'
import { runNft } from './nft.ts'
import { projectPath } from './project.ts'
import { nftTableStore } from './store.ts'

const SOCKET_NAME = 'legacyfw-via-watch'
const CHECK_EVERY_MS = 2000

// util-linux's setpriv asks the kernel to kill `ip monitor` when the watcher
// dies (PR_SET_PDEATHSIG), even by SIGKILL; without it the monitor would
// live on until its next write found the pipe closed. Only a watcher killed
// between the fork and setpriv's prctl escapes that (docs/divergences.md).
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p))
const MONITOR = ['ip', 'monitor', 'address', 'link']

/** Is a watcher running in this network namespace? (/proc/net/unix is per namespace.) */
export const viaWatchRunning = (): boolean => {
  try {
    // Node binds the whole sun_path: the name is listed padded with NULs ("@").
    return new RegExp(`@${SOCKET_NAME}@*$`, 'm').test(readFileSync('/proc/net/unix', 'utf8'))
  } catch {
    return false
  }
}

/** Starts the watcher (its bundle, dist/entry-via-watch.cjs) in the background unless one runs. */
export const startViaWatch = (): void => {
  if (viaWatchRunning()) return
  spawn(process.execPath, [projectPath('dist', 'entry-via-watch.cjs')], { detached: true, stdio: 'ignore' }).unref()
}

const inode = (path: string): number | undefined => {
  try {
    return statSync(path).ino
  } catch {
    return undefined
  }
}

// Is anyone but this process and its children still using this namespace?
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

/** One pass: brings the sets up to date; false when there is nothing left to watch. */
const resync = (): boolean => {
  const store = nftTableStore('ip', TABLE_NAME)
  const sets = viaSetsOf(store.read())
  if (sets.size === 0) return false
  const text = viaResyncText('ip', TABLE_NAME, sets, readInterfaces())
  if (text !== undefined) runNft(['-f', '-'], text)
  return true
}

export const runViaWatch = (): void => {
  const server = createServer()
  server.on('error', () => process.exit(0))
  server.listen(`\0${SOCKET_NAME}`, () => {
    const own = inode('/proc/self/ns/net') ?? 0
    const [command, ...args] = SETPRIV ? [SETPRIV, '--pdeathsig', 'KILL', ...MONITOR] : MONITOR
    const monitor = spawn(command as string, args, { stdio: ['ignore', 'pipe', 'ignore'] })
    const stop = (): never => {
      monitor.kill()
      process.exit(0)
    }
    let pending: NodeJS.Timeout | undefined
    const schedule = (): void => {
      pending ??= setTimeout(() => {
        pending = undefined
        if (!resync()) stop()
      }, 20)
    }
    monitor.stdout.on('data', schedule)
    monitor.on('exit', stop)
    setInterval(() => {
      if (!namespaceInUse(own, new Set([process.pid, monitor.pid ?? 0]))) stop()
      else schedule()
    }, CHECK_EVERY_MS)
    schedule()
  })
}
