// legacyfw runtime: the resident process serving the packet path's userspace
// part in one network namespace (runtime/resident.ts). It holds no state of
// its own: the owned tables say what to do. Each consumer serves one
// netfilter subsystem on the one netlink socket (runtime/netlink.ts): the
// packets the logging rules send to NFLOG (runtime/packet-log.ts), the
// RealAudio PNA hellos and RTSP SETUPs ip_masq_raudio queues (runtime/pna.ts).
//
// Started by the tools when a logging rule appears or ip_masq_raudio is
// loaded (it ends when neither is left), or in the foreground by legacyfw-runtime.service (it serves until
// stopped); either ends when its namespace is gone.
import { spawn } from 'node:child_process'
import { setPriority } from 'node:os'
import { type NetlinkConsumer, closeSocket, inheritedSockets, readNetlink, withNetfilterSockets } from './netlink.ts'
import { packetLog } from './packet-log.ts'
import { pnaGateway } from './pna.ts'
import { projectPath } from './project.ts'
import { CHECK_EVERY_MS, holdResident, startResident } from './resident.ts'

/** The abstract socket name the runtime holds in its namespace. */
export const RUNTIME_SOCKET = 'legacyfw-runtime'
/** Where the lines go: the syslog socket, unless LEGACYFW_SYSLOG names another (tests). */
const syslogPath = (): string => process.env['LEGACYFW_SYSLOG'] ?? '/dev/log'

const runtimeArgv = (stay: boolean): string[] =>
  withNetfilterSockets(syslogPath(), [process.execPath, projectPath('dist', 'entry-runtime.cjs'), ...(stay ? [STAY] : [])])

/** The runtime's own argument: serve until stopped (the service), not only while something needs it. */
export const STAY = '--stay'

/** Starts the runtime in the background unless one runs in this namespace (after a commit leaving logging rules or ip_masq_raudio). */
export const startRuntime = (): void => startResident(RUNTIME_SOCKET, runtimeArgv(false))

/**
 * `legacyfw runtime`: serves this namespace in the foreground until stopped,
 * as legacyfw-runtime.service runs it (it waits while a runtime the tools
 * started still serves). The sockets are made by perl, which execs the
 * runtime's bundle: this process waits for it and passes on SIGTERM and
 * SIGINT; exit 75 when the syslog socket went away (the unit restarts it).
 */
export const runtimeForeground = (): Promise<number> =>
  new Promise((resolve) => {
    const [command, ...args] = runtimeArgv(true)
    const child = spawn(command as string, args, { stdio: 'inherit' })
    const pass = (signal: NodeJS.Signals) => () => child.kill(signal)
    process.on('SIGTERM', pass('SIGTERM'))
    process.on('SIGINT', pass('SIGINT'))
    child.on('error', (e) => {
      process.stderr.write(`legacyfw runtime: cannot start ${command}: ${e.message}\n`)
      resolve(1)
    })
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)))
  })

const SYSLOG_LOST = 75

/**
 * Queued packets wait on this process (a PNA hello is held until its
 * verdict): on a busy host it runs before ordinary processes. Done first,
 * so that the thread pool reading the socket inherits it.
 */
const raisePriority = (): void => {
  try {
    setPriority(RUNTIME_NICE)
  } catch {
    // not root: ordinary priority
  }
}
const RUNTIME_NICE = -10

/**
 * The runtime itself (dist/entry-runtime.cjs, started through perl). Without
 * `stay` it ends when nothing needs it (no logging rule, no ip_masq_raudio), and hands over to a new one
 * (which perl connects to syslog again) when the syslog socket went away.
 */
export const runRuntime = (stay: boolean): void => {
  raisePriority()
  const sockets = inheritedSockets()
  if (!sockets) {
    process.stderr.write('legacyfw runtime: started without its netlink socket\n')
    process.exit(1)
  }
  holdResident(
    RUNTIME_SOCKET,
    (namespaceGone, release) => {
      // What to do once the read loop has stopped (undefined: keep reading).
      let then: (() => void) | undefined
      const read = (): void =>
        readNetlink(
          sockets.netlink,
          (messages) => consumers.forEach((c) => c.consume(messages)),
          () => then !== undefined,
          () => then?.(),
        )
      const exit = (status: number) => (): void => process.exit(status)
      const needed = (): boolean => consumers.some((c) => c.needed())
      // With the groups and the name released, a tool committing a logging
      // rule starts a new runtime; one that found this one still running
      // started none, hence the last look.
      const handOver = (): void => {
        closeSocket(sockets.netlink)
        release(() => {
          if (!namespaceGone() && needed()) startRuntime()
          process.exit(0)
        })
      }
      // Looked at again once reading stopped: a rule committed meanwhile
      // keeps it reading (nothing lost).
      const end = (): void => {
        then ??= () => {
          if (!needed()) return handOver()
          then = undefined
          read()
        }
      }
      const syslogLost = (): void => {
        process.stderr.write('legacyfw runtime: the syslog socket went away\n')
        then ??= stay ? exit(SYSLOG_LOST) : handOver
      }
      let consumers: NetlinkConsumer[]
      try {
        consumers = [packetLog(sockets, syslogLost), pnaGateway(sockets.netlink)]
      } catch (e) {
        process.stderr.write(`legacyfw runtime: ${(e as Error).message}\n`)
        process.exit(1)
      }
      read()
      const stop = (): void => {
        then ??= exit(0)
      }
      process.on('SIGTERM', stop)
      process.on('SIGINT', stop)
      // The periodic look runs nft without blocking: queued packets wait on this process.
      let looking = false
      setInterval(() => {
        if (namespaceGone()) return stop()
        if (looking) return
        looking = true
        void Promise.all(consumers.map((c) => c.refresh())).then((needs) => {
          looking = false
          if (!stay && !needs.some(Boolean)) end()
        })
      }, CHECK_EVERY_MS)
    },
    stay,
  )
}
