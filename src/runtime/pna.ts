// The runtime's RealAudio consumer (translate/alg/raudio.ts): reads the PNA
// hellos and RTSP SETUPs iptables-nft queues, opens a hole per client UDP
// port they name (a map element added over netlink: spawning nft per packet made
// verdicts slow enough for a retransmission to open a second hole), puts the
// gateway port in the record (or client_port) and accepts the rewritten packet. Keeps the
// queueing rules in iptables-nft's mangle table as the loaded modules say.
import { execFile } from 'node:child_process'
import { ALG_TABLE } from '../translate/alg/apps.ts'
import { decodeAlg } from '../translate/alg/state.ts'
import { type HoleRequest, PNA_HOLE_MAP, PNA_HOLE_SECONDS, PNA_QUEUE, holeRequest, pnaQueueRules, rollingPorts } from '../translate/alg/raudio.ts'
import type { LoadedApp } from '../translate/alg/model.ts'
import { NLMSG_ERROR, mapElementBatch, netlinkError, nfqueueAccept, nfqueueBindRequest, queuedPacket } from '../translate/packetlog/netlink.ts'
import { runRealCommand } from './userland.ts'
import { nftTableStore } from './store.ts'
import { runNftAsync } from './nft.ts'
import { kernelTableFromJson } from '../translate/nft/kernel-table.ts'
import { type NetlinkConsumer, sendNetlink } from './netlink.ts'

const EEXIST = 17
/** Sequence numbers of this consumer's requests (the packet log's are 0x10000 + group). */
const FIRST_SEQ = 0x20000
const PORT_TRIES = 16
/** Handled segments remembered: a retransmission gets the same rewrite and no second hole. */
const CACHE_SIZE = 4096

/** The modules the helper table holds (none when it is not there or unreadable). */
const loadedApps = (): LoadedApp[] => {
  try {
    return decodeAlg(nftTableStore('ip', ALG_TABLE).read())
  } catch {
    return []
  }
}

/** The same, without blocking (the runtime's periodic look). */
const loadedAppsAsync = async (): Promise<LoadedApp[]> => {
  const r = await runNftAsync(['-j', 'list', 'table', 'ip', ALG_TABLE])
  try {
    return r.status === 0 ? decodeAlg(kernelTableFromJson(JSON.parse(r.stdout), 'ip', ALG_TABLE)) : []
  } catch {
    return []
  }
}

/** Do the loaded modules include ip_masq_raudio? */
const raudioLoadedIn = (apps: readonly LoadedApp[]): boolean => apps.some((a) => a.app === 'raudio')

/** Is ip_masq_raudio loaded (the runtime is needed for its hellos)? */
const raudioLoaded = (): boolean => raudioLoadedIn(loadedApps())

const IPTABLES = ['iptables-nft', '-w', '-t', 'mangle']
const iptables = (args: readonly string[]): { status: number; stdout: string } => {
  const [tool, ...head] = IPTABLES
  const r = runRealCommand(tool as string, [...head, ...args])
  return { status: r?.status ?? 127, stdout: r?.stdout ?? '' }
}
/** `iptables -S FORWARD` without blocking (the periodic look); a change is rare and made synchronously. */
const listedAsync = (): Promise<{ status: number; stdout: string }> =>
  new Promise((resolve) =>
    execFile(IPTABLES[0] as string, [...IPTABLES.slice(1), '-S', 'FORWARD'], { encoding: 'utf8' }, (err, stdout) =>
      resolve({ status: err ? 1 : 0, stdout }),
    ),
  )

const QUEUE_RULE = new RegExp(`^-A FORWARD (.*--queue-num ${PNA_QUEUE} .*)$`)

/** Makes the queueing rules in mangle FORWARD those the loaded modules need (none: removed). */
export const keepQueueRules = (apps: readonly LoadedApp[], listed = iptables(['-S', 'FORWARD'])): void => {
  const wanted = pnaQueueRules(apps)
  const present = listed.status === 0 ? listed.stdout.split('\n').flatMap((l) => QUEUE_RULE.exec(l)?.[1] ?? []) : []
  if (present.length === wanted.length && wanted.every((w) => present.some((p) => sameRule(p, w)))) return
  for (let i = present.length; i > 0; i--) iptables(['-D', 'FORWARD', ...ruleWords(present[i - 1] as string)])
  for (const rule of wanted) iptables(['-A', 'FORWARD', ...rule])
}

/** The words of a rule as `iptables -S` prints it (quoted values unquoted). */
const ruleWords = (listed: string): string[] => [...listed.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '')
/**
 * iptables -S prints the u32 test and the labels in its own spelling: compare the ports, labels, queue and
 * the payload values the u32 test takes (a rule of a runtime queueing PNA only is replaced).
 */
const sameRule = (listed: string, wanted: readonly string[]): boolean => {
  const words = ruleWords(listed)
  const value = (ws: readonly string[], option: string): string | undefined => ws[ws.indexOf(option) + 1]
  const payloads = (ws: readonly string[]): string | undefined => value(ws, '--u32')?.split('=')[1]?.toLowerCase()
  return (
    ['--dports', '--label', '--queue-num'].every((o) => value(words, o) === value(wanted, o)) &&
    payloads(words) === payloads(wanted) &&
    words.includes('--queue-bypass')
  )
}

type Holes = Map<number, number>

/** Binds the PNA queue on `netlink`; throws (from `consume`) when the queue is taken. */
export const pnaGateway = (netlink: number): NetlinkConsumer => {
  let seq = FIRST_SEQ
  const waiting = new Map<number, (errno: number) => void>()
  const cache = new Map<string, Promise<Holes>>()
  const bindSeq = seq++
  const pick = rollingPorts(Math.random)
  sendNetlink(netlink, nfqueueBindRequest(PNA_QUEUE, 0xffff, bindSeq))
  keepQueueRules(loadedApps())
  // Queueing rules may be in mangle FORWARD (a runtime before this one made them): looked at once.
  let queueRulesSeen = true

  const request = (message: (s: number) => Uint8Array): Promise<number> =>
    new Promise((resolve) => {
      const s = seq++
      if (seq > 0x7fffffff) seq = FIRST_SEQ + 1
      waiting.set(s, resolve)
      sendNetlink(netlink, message(s))
    })

  /**
   * A gateway port for each of the asked client ports, reserved in the
   * hole map for its server only, all in one transaction (its commit is most
   * of a verdict's time); a port taken means the next ports are picked for all.
   * None when no free set was found or the map is gone.
   */
  const holesFor = async (asked: HoleRequest): Promise<Holes> => {
    for (let i = 0; i < PORT_TRIES; i++) {
      const holes = asked.gatewayPorts(pick)
      if (new Set(holes.values()).size < asked.ports.length) continue
      const elements = [...holes].map(([port, gateway]) => ({ key: { addr: asked.server, port: gateway }, value: { addr: asked.client, port } }))
      const errno = await request((s) => mapElementBatch(ALG_TABLE, PNA_HOLE_MAP, elements, PNA_HOLE_SECONDS, s))
      if (errno === 0) return holes
      if (errno !== EEXIST) break
    }
    return new Map()
  }

  const handle = async (queue: number, id: number, packet: Uint8Array): Promise<void> => {
    const asked = holeRequest(packet)
    if (!asked) return sendNetlink(netlink, nfqueueAccept(queue, id))
    const { segment } = asked
    const key = `${segment.saddr}:${segment.sport}>${segment.daddr}:${segment.dport}#${segment.seq}`
    let holes = cache.get(key)
    if (!holes) {
      holes = holesFor(asked)
      cache.set(key, holes)
      if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string)
    }
    sendNetlink(netlink, nfqueueAccept(queue, id, asked.rewritten(await holes)))
  }

  return {
    consume: (messages) => {
      for (const m of messages) {
        if (m.type === NLMSG_ERROR) {
          const errno = netlinkError(m)
          if (m.seq === bindSeq && errno !== 0) throw new Error(`cannot bind NFQUEUE ${PNA_QUEUE} (errno ${errno})`)
          const done = waiting.get(m.seq)
          waiting.delete(m.seq)
          done?.(errno)
          continue
        }
        const q = queuedPacket(m)
        // Whatever goes wrong with one packet, it is accepted (as it came) and the runtime goes on.
        // A copy: the read loop reuses its buffer while the holes are added.
        if (q && q.queue === PNA_QUEUE)
          handle(q.queue, q.id, Uint8Array.from(q.packet)).catch(() => {
            try {
              sendNetlink(netlink, nfqueueAccept(q.queue, q.id))
            } catch {
              // the socket is closing
            }
          })
      }
    },
    needed: raudioLoaded,
    // The queueing rules as the loaded modules say (none left: removed). Mangle FORWARD is listed only
    // while the runtime queues or last found queueing rules: each program started holds this process up for a fork.
    refresh: async () => {
      const apps = await loadedAppsAsync()
      const queueing = raudioLoadedIn(apps)
      if (queueing || queueRulesSeen) {
        const listed = await listedAsync()
        keepQueueRules(apps, listed)
        queueRulesSeen = queueing || listed.status !== 0
      }
      return queueing
    },
  }
}
