// legacyfw runtime: the resident process serving the packet path's userspace
// part in one network namespace (runtime/resident.ts). It holds no state of
// its own: the owned tables say what to do. Today it formats the packets the
// logging rules send to NFLOG (runtime/packet-log.ts); every consumer reads
// the one netlink socket (runtime/netlink.ts).
//
// Started by the tools when a logging rule appears, or in the foreground by
// legacyfw-runtime.service; ends when no logging rule is left, or when its
// namespace is gone.
import { spawn } from 'node:child_process'
import { closeSocket, inheritedSockets, readNetlink, withNetfilterSockets } from './netlink.ts'
import { loggingRulesPresent, packetLog } from './packet-log.ts'
import { projectPath } from './project.ts'
import { CHECK_EVERY_MS, holdResident, startResident } from './resident.ts'

const SOCKET_NAME = 'legacyfw-runtime'
/** Where the lines go: the syslog socket, unless LEGACYFW_SYSLOG names another (tests). */
const syslogPath = (): string => process.env['LEGACYFW_SYSLOG'] ?? '/dev/log'

const runtimeArgv = (): string[] => withNetfilterSockets(syslogPath(), [process.execPath, projectPath('dist', 'entry-runtime.cjs')])

/** Starts the runtime in the background unless one runs in this namespace (after a commit leaving logging rules). */
export const startRuntime = (): void => startResident(SOCKET_NAME, runtimeArgv())

/**
 * `legacyfw runtime`: serves this namespace in the foreground until no
 * logging rule is left (exit 0), as the systemd unit runs it. The sockets
 * are made by perl, which execs the runtime's bundle: this process waits for
 * it and passes on SIGTERM and SIGINT.
 */
export const runtimeForeground = (): Promise<number> =>
  new Promise((resolve) => {
    const [command, ...args] = runtimeArgv()
    const child = spawn(command as string, args, { stdio: 'inherit' })
    const pass = (signal: NodeJS.Signals) => () => child.kill(signal)
    process.on('SIGTERM', pass('SIGTERM'))
    process.on('SIGINT', pass('SIGINT'))
    child.on('error', () => resolve(1))
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)))
  })

/** The runtime itself (dist/entry-runtime.cjs, started through perl). */
export const runRuntime = (): void => {
  const sockets = inheritedSockets()
  if (!sockets) {
    process.stderr.write('legacyfw runtime: started without its netlink socket\n')
    process.exit(1)
  }
  holdResident(SOCKET_NAME, (namespaceGone, release) => {
    let log: ReturnType<typeof packetLog>
    try {
      log = packetLog(sockets.netlink, sockets.syslog)
    } catch (e) {
      process.stderr.write(`legacyfw runtime: ${(e as Error).message}\n`)
      process.exit(1)
    }
    // What to do once the read loop has stopped (undefined: keep reading).
    let then: (() => void) | undefined
    const read = (): void =>
      readNetlink(
        sockets.netlink,
        (messages) => log.consume(messages),
        () => then !== undefined,
        () => then?.(),
      )
    const stop = (): void => {
      then ??= () => process.exit(0)
    }
    // Looked at again once reading stopped: a rule committed meanwhile keeps
    // it reading (nothing lost). Once the groups and the name are released,
    // a tool committing one starts a new runtime; one that found this one
    // still running started none, hence the last look.
    const end = (): void => {
      then ??= () => {
        if (loggingRulesPresent()) {
          then = undefined
          return read()
        }
        closeSocket(sockets.netlink)
        release(() => {
          if (!namespaceGone() && loggingRulesPresent()) startRuntime()
          process.exit(0)
        })
      }
    }
    read()
    process.on('SIGTERM', stop)
    process.on('SIGINT', stop)
    setInterval(() => {
      if (namespaceGone()) stop()
      else if (!loggingRulesPresent()) end()
      else log.refresh()
    }, CHECK_EVERY_MS)
  })
}
