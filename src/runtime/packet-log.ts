// The runtime's NFLOG consumer: each packet a legacy logging rule sent to its
// group becomes the old kernel's line (translate/packetlog/lines.ts), sent as
// one syslog datagram (kern.info, tag "kernel"), or, without a syslog socket,
// written to /dev/kmsg (docs/divergences.md).
import { execFileSync } from 'node:child_process'
import { openSync, writeSync } from 'node:fs'
import { LOG_GROUP, logLine, syslogDatagram } from '../translate/packetlog/lines.ts'
import { type NetlinkMessage, NLMSG_ERROR, loggedPacket, netlinkError, nflogBindRequest } from '../translate/packetlog/netlink.ts'
import { TABLE_NAME as IPCHAINS_TABLE } from '../translate/ipchains/render.ts'
import { TABLE_NAME as IPFWADM_TABLE } from '../translate/ipfwadm/render.ts'
import { runNft } from './nft.ts'
import { sendNetlink } from './netlink.ts'

// The IP header with the most options (60 bytes) and the first 14 bytes of
// TCP (ports and flags): all a line shows.
const COPY_RANGE = 74
const GROUPS = [LOG_GROUP.ipchains, LOG_GROUP.ipfwadm]

/** Does an owned table hold a rule logging to the runtime's groups? */
export const loggingRulesPresent = (): boolean =>
  [IPCHAINS_TABLE, IPFWADM_TABLE].some((table) => {
    const { status, stdout } = runNft(['list', 'table', 'ip', table])
    return status === 0 && GROUPS.some((g) => new RegExp(`\\blog prefix "[^"]*" group ${g}\\b`).test(stdout))
  })

/** Interface names by index, as `ip -j link` lists them in this namespace. */
const interfaceNames = (): Map<number, string> => {
  try {
    const links = JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as { ifindex: number; ifname: string }[]
    return new Map(links.map((l) => [l.ifindex, l.ifname]))
  } catch {
    return new Map()
  }
}

export interface PacketLog {
  /** The bind requests' sequence numbers are 1.. (acknowledged in `consume`). */
  readonly consume: (messages: NetlinkMessage[]) => void
  /** Re-reads the interface names (an interface came or was renamed). */
  readonly refresh: () => void
}

const localTime = (d: Date) => ({ month: d.getMonth(), day: d.getDate(), hours: d.getHours(), minutes: d.getMinutes(), seconds: d.getSeconds() })

/**
 * Where lines go: the syslog socket perl connected, else /dev/kmsg, else
 * stderr. A syslog socket that stops taking lines (the daemon restarted:
 * the socket perl connected is gone) calls `lost` once.
 */
const lineWriter = (syslog: number | undefined, lost: () => void): ((line: string) => void) => {
  if (syslog !== undefined) {
    let gone = false
    return (line) => {
      if (gone) return
      try {
        writeSync(syslog, syslogDatagram(line, localTime(new Date())))
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
 * Binds the log groups on `netlink` and returns the consumer of their
 * messages, which throws when a group is taken; `syslogLost` is called when
 * the syslog socket stops taking lines.
 */
export const packetLog = (netlink: number, syslog: number | undefined, syslogLost: () => void): PacketLog => {
  GROUPS.forEach((group, i) => sendNetlink(netlink, nflogBindRequest(group, COPY_RANGE, i + 1)))
  const write = lineWriter(syslog, syslogLost)
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
          if (errno !== 0 && m.seq >= 1 && m.seq <= GROUPS.length) throw new Error(`cannot bind NFLOG group ${GROUPS[m.seq - 1]} (errno ${errno})`)
          continue
        }
        const p = loggedPacket(m)
        if (!p) continue
        const line = logLine(p.group, p.prefix, p.payload, name(p.indev), name(p.outdev))
        if (line !== undefined) write(line)
      }
    },
    refresh: () => {
      names = interfaceNames()
    },
  }
}
