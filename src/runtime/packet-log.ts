// The runtime's NFLOG consumer: each packet a legacy logging rule sent to its
// group becomes the old kernel's line (translate/packetlog/lines.ts), sent as
// one syslog datagram (kern.info, tag "kernel"), or, without a syslog socket,
// written to /dev/kmsg (docs/divergences.md).
import { execFile, execFileSync } from 'node:child_process'
import { openSync, writeSync } from 'node:fs'
import { LOG_GROUP, logLine, syslogDatagram } from '../translate/packetlog/lines.ts'
import { NLMSG_ERROR, loggedPacket, netlinkError, nflogBindRequest } from '../translate/packetlog/netlink.ts'
import { TABLE_NAME as IPCHAINS_TABLE } from '../translate/ipchains/render.ts'
import { TABLE_NAME as IPFWADM_TABLE } from '../translate/ipfwadm/render.ts'
import { type NftResult, runNft, runNftAsync } from './nft.ts'
import { type NetfilterSockets, type NetlinkConsumer, sendNetlink } from './netlink.ts'

// The IP header with the most options (60 bytes) and the first 14 bytes of
// TCP (ports and flags): all a line shows.
const COPY_RANGE = 74
const GROUPS: readonly number[] = [LOG_GROUP.ipchains, LOG_GROUP.ipfwadm]
// The bind requests' sequence numbers: 0x10000 + group (acknowledged in consume).
const BIND_SEQ = 0x10000

const LOGGING_TABLES = [IPCHAINS_TABLE, IPFWADM_TABLE]
const logsToGroups = ({ status, stdout }: NftResult): boolean =>
  status === 0 && GROUPS.some((g) => new RegExp(`\\blog prefix "[^"]*" group ${g}\\b`).test(stdout))

/** Does an owned table hold a rule logging to the runtime's groups? */
const loggingRulesPresent = (): boolean => LOGGING_TABLES.some((table) => logsToGroups(runNft(['list', 'table', 'ip', table])))

/** The same, without blocking (the runtime's periodic look). */
const loggingRulesPresentAsync = async (): Promise<boolean> =>
  (await Promise.all(LOGGING_TABLES.map((table) => runNftAsync(['list', 'table', 'ip', table])))).some(logsToGroups)

const namesOf = (json: string): Map<number, string> => {
  try {
    const links = JSON.parse(json) as { ifindex: number; ifname: string }[]
    return new Map(links.map((l) => [l.ifindex, l.ifname]))
  } catch {
    return new Map()
  }
}
const LINKS = ['-j', 'link', 'show']
/** Interface names by index, as `ip -j link` lists them in this namespace. */
const interfaceNames = (): Map<number, string> => {
  try {
    return namesOf(execFileSync('ip', LINKS, { encoding: 'utf8' }))
  } catch {
    return new Map()
  }
}

const localTime = (d: Date) => ({ month: d.getMonth(), day: d.getDate(), hours: d.getHours(), minutes: d.getMinutes(), seconds: d.getSeconds() })

/**
 * Where lines go: the syslog socket perl connected, else /dev/kmsg, else
 * stderr. A syslog socket that stops taking lines (the daemon restarted:
 * the socket perl connected is gone) calls `lost` once.
 */
const lineWriter = ({ syslog, syslogStream }: NetfilterSockets, lost: () => void): ((line: string) => void) => {
  if (syslog !== undefined) {
    const end = syslogStream ? '\0' : ''
    let gone = false
    return (line) => {
      if (gone) return
      try {
        writeSync(syslog, syslogDatagram(line, localTime(new Date())) + end)
      } catch {
        gone = true
        lost()
      }
    }
  }
  const kmsg = (() => {
    try {
      return openSync('/dev/kmsg', 'w')
    } catch {
      return 2
    }
  })()
  // /dev/kmsg files a userspace line under facility user whatever it says.
  return (line) => void writeSync(kmsg, `<6>${line}\n`)
}

/**
 * Binds the log groups on the netlink socket and returns the consumer of their
 * messages, which throws when a group is taken; `syslogLost` is called when
 * the syslog socket stops taking lines.
 */
export const packetLog = (sockets: NetfilterSockets, syslogLost: () => void): NetlinkConsumer => {
  GROUPS.forEach((group) => sendNetlink(sockets.netlink, nflogBindRequest(group, COPY_RANGE, BIND_SEQ + group)))
  const write = lineWriter(sockets, syslogLost)
  let names = interfaceNames()
  const name = (index: number | undefined): string | undefined => {
    if (index === undefined) return undefined
    if (!names.has(index)) names = interfaceNames()
    return names.get(index) ?? `if${index}`
  }
  return {
    consume: (messages) => {
      for (const m of messages) {
        if (m.type === NLMSG_ERROR) {
          const errno = netlinkError(m)
          const group = m.seq - BIND_SEQ
          if (errno !== 0 && GROUPS.includes(group)) throw new Error(`cannot bind NFLOG group ${group} (errno ${errno})`)
          continue
        }
        const p = loggedPacket(m)
        if (!p) continue
        const line = logLine(p.group, p.prefix, p.payload, name(p.indev), name(p.outdev))
        if (line !== undefined) write(line)
      }
    },
    needed: loggingRulesPresent,
    // Without blocking (queued packets may be waiting on this process): an interface may have come or been renamed.
    // Only while something logs: each program started holds this process up for a fork.
    refresh: async () => {
      const present = await loggingRulesPresentAsync()
      if (present)
        execFile('ip', LINKS, { encoding: 'utf8' }, (err, stdout) => {
          if (!err) names = namesOf(stdout)
        })
      return present
    },
  }
}
