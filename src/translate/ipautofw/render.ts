// autofw entries as nftables, entirely in the kernel:
//   - a RANGE entry with a control port gets a map (external address -> the
//     internal host that last used the control port). A rule after source
//     NAT writes it for every masqueraded packet to the control port
//     (delete + update: the last host wins, as 2.0/2.2 overwrote `where`);
//     a second map remembers the external host contacted (`lastcontact`),
//     with the 15 s timer when USETIME is set;
//   - incoming TCP/UDP to a local address and a port in the range is
//     forwarded (DNAT, same port) to the learned host, else to the -h host,
//     else dropped (2.0/2.2 created a masq entry to 0.0.0.0 and dropped it);
//   - PORT entries bounce VISIBLE to HOST:HIDDEN; DIRECT entries keep the
//     source port when masquerading connections to their range.
import { addrToDotted } from '../common/inet.ts'
import type { NftMap, NftRule } from '../nft/ir.ts'
import type { MapElement } from '../nft/kernel-table.ts'
import { FORWARDED_LABEL, MASQ_LABELS } from '../nft/labels.ts'
import { type AutofwSlot, EXPIRE_SECONDS, FLAG, TYPE, protoName } from './model.ts'

export const AUTOFW_TABLE = 'legacyfw_ipautofw'
export const AUTOFW_TABLE_COMMENT = 'ipautofw entries (Linux 2.0) managed by legacyfw; list them with legacyfw proc ip_autofw'

export const whereMap = (id: number): string => `autofw_${id}_where`
export const lastMap = (id: number): string => `autofw_${id}_last`

export interface AutofwRules {
  readonly maps: readonly NftMap[]
  /** Filter postrouting after source NAT: learning from control-port packets. */
  readonly trigger: readonly NftRule[]
  /** Nat prerouting: forwarding. */
  readonly forward: readonly NftRule[]
  /** Nat postrouting before masquerading: DIRECT port preservation. */
  readonly direct: readonly NftRule[]
}

const ports = (low: number, high: number): string => (low === high ? `${low}` : `${low}-${high}`)

const tracksControl = (s: AutofwSlot): boolean => s.entry.type === TYPE.RANGE && s.entry.ctlport !== 0 && s.entry.ctlproto !== 0

const mapsOf = (s: AutofwSlot): NftMap[] => {
  const usetime = (s.entry.flags & FLAG.USETIME) !== 0
  const secure = (s.entry.flags & FLAG.SECURE) !== 0
  return [
    // Only a SECURE entry forgets its host when the timer runs out.
    { name: whereMap(s.id), key: 'ipv4_addr', value: 'ipv4_addr', ...(usetime && secure ? { timeoutSeconds: EXPIRE_SECONDS } : {}) },
    { name: lastMap(s.id), key: 'ipv4_addr', value: 'ipv4_addr', ...(usetime ? { timeoutSeconds: EXPIRE_SECONDS } : {}) },
  ]
}

const triggerRule = (s: AutofwSlot): NftRule => {
  const w = whereMap(s.id)
  const l = lastMap(s.id)
  const learn = [`delete @${w} { ip saddr : ct original ip saddr }`, `update @${w} { ip saddr : ct original ip saddr }`]
  const contact = [`delete @${l} { ip saddr : ip daddr }`, `update @${l} { ip saddr : ip daddr }`]
  return {
    matches: ['ct direction original ct status snat', `meta l4proto ${protoName(s.entry.ctlproto)} th dport ${s.entry.ctlport}`],
    stmts: [...learn, ...contact],
  }
}

const incoming = (protocol: number, portText: string): string => `fib daddr type local meta l4proto ${protoName(protocol)} th dport ${portText}`
const forwardTo = (match: string, target: string): NftRule => ({
  matches: [match],
  stmts: [`ct label set ${FORWARDED_LABEL}`, `dnat ip to ${target}`],
})
const dropAll = (match: string): NftRule => ({ matches: [match], stmts: ['drop'] })

const rangeRules = (s: AutofwSlot): NftRule[] => {
  const match = incoming(s.entry.protocol, ports(s.entry.low, s.entry.high))
  const learned = tracksControl(s) ? [forwardTo(match, `ip daddr map @${whereMap(s.id)}`)] : []
  const fallback = s.entry.where ? forwardTo(match, addrToDotted(s.entry.where)) : dropAll(match)
  return [...learned, fallback]
}

const portRule = (s: AutofwSlot): NftRule => {
  const match = incoming(s.entry.protocol, `${s.entry.visible}`)
  return s.entry.where ? forwardTo(match, `${addrToDotted(s.entry.where)}:${s.entry.hidden}`) : dropAll(match)
}

// The entry's protocol is not compared (2.0/2.2 checked only the port range).
const directRules = (s: AutofwSlot): NftRule[] =>
  MASQ_LABELS.map((label) => ({
    matches: [`ct label ${label}`, 'meta l4proto { tcp, udp }', `th dport ${ports(s.entry.low, s.entry.high)}`],
    stmts: ['masquerade'],
  }))

/** RANGE entries are consulted before PORT entries, each in list order. */
export const renderAutofw = (slots: readonly AutofwSlot[]): AutofwRules => ({
  maps: slots.filter(tracksControl).flatMap(mapsOf),
  trigger: slots.filter(tracksControl).map(triggerRule),
  forward: [
    ...slots.filter((s) => s.entry.type === TYPE.RANGE).flatMap(rangeRules),
    ...slots.filter((s) => s.entry.type === TYPE.PORT).map(portRule),
  ],
  direct: slots.filter((s) => s.entry.type === TYPE.DIRECT).flatMap(directRules),
})

/** What the packet path learned for an entry, from its maps. */
export const liveOf = (maps: ReadonlyMap<string, readonly MapElement[]>, dotted: (s: string) => number | undefined) => (id: number) => {
  // Several external addresses each have their element; the freshest one counts.
  const freshest = <T extends { expiresSeconds?: number }>(list: readonly T[] | undefined): T | undefined =>
    [...(list ?? [])].sort((a, b) => (b.expiresSeconds ?? Infinity) - (a.expiresSeconds ?? Infinity))[0]
  const where = freshest(maps.get(whereMap(id)))
  const last = freshest(maps.get(lastMap(id)))
  if (!where && !last) return undefined
  return {
    ...(where ? { where: dotted(where.value) ?? 0 } : {}),
    ...(last ? { lastcontact: dotted(last.value) ?? 0, ...(last.expiresSeconds === undefined ? {} : { timerSeconds: last.expiresSeconds }) } : {}),
  }
}
