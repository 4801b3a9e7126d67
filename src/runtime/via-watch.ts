// The daemon that keeps ipfwadm's -V sets current (translate/ipfwadm/via.ts)
// while addresses change, one per network namespace (runtime/resident.ts):
// it follows `ip monitor address link`.
//
// It exits when the table has no via set left, or when its namespace is
// gone for everyone else.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { viaResyncText, viaSetsOf } from '../translate/ipfwadm/via.ts'
import { TABLE_NAME } from '../translate/ipfwadm/render.ts'
import { readInterfaces } from './interfaces.ts'
import { runNft } from './nft.ts'
import { projectPath } from './project.ts'
import { CHECK_EVERY_MS, holdResident, residentRunning, startResident } from './resident.ts'
import { nftTableStore } from './store.ts'

const SOCKET_NAME = 'legacyfw-via-watch'

// util-linux's setpriv asks the kernel to kill `ip monitor` when the watcher
// dies (PR_SET_PDEATHSIG), even by SIGKILL; without it the monitor would
// live on until its next write found the pipe closed. Only a watcher killed
// between the fork and setpriv's prctl escapes that (docs/divergences.md).
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p))
const MONITOR = ['ip', 'monitor', 'address', 'link']

/** Is a watcher running in this network namespace? */
export const viaWatchRunning = (): boolean => residentRunning(SOCKET_NAME)

/** Starts the watcher (its bundle, dist/entry-via-watch.cjs) in the background unless one runs. */
export const startViaWatch = (): void => startResident(SOCKET_NAME, [process.execPath, projectPath('dist', 'entry-via-watch.cjs')])

/** One pass: brings the sets up to date; false when there is nothing left to watch. */
const resync = (): boolean => {
  const store = nftTableStore('ip', TABLE_NAME)
  const sets = viaSetsOf(store.read())
  if (sets.size === 0) return false
  const text = viaResyncText('ip', TABLE_NAME, sets, readInterfaces())
  if (text !== undefined) runNft(['-f', '-'], text)
  return true
}

export const runViaWatch = (): void =>
  holdResident(SOCKET_NAME, (namespaceGone) => {
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
      if (namespaceGone(monitor.pid ?? 0)) stop()
      else schedule()
    }, CHECK_EVERY_MS)
    schedule()
  })
