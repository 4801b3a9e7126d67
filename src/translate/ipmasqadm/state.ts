// What the ipautofw and ipmasqadm tables hold, as records (one per legacy
// entry, in kernel list order) and as chains; and back from the kernel.
//   autofw ID TYPE PROTO LOW HIGH VISIBLE HIDDEN WHERE CTLPROTO CTLPORT FLAGS
//   portfw PROTO LADDR LPORT RADDR RPORT PREF PREFCNT     (UDP list, then TCP)
//   mfw MARK RADDR RPORT PREF PREFCNT                     (/proc order)
// Preference rotations run in the kernel (numgen); the listing replays the
// connections a tagged rule counted since the records were written.
import type { NftBaseChain, NftChain, NftRule, NftTable } from '../nft/ir.ts'
import { DecodeError, type KernelTable, recordsOf, talliesOf } from '../nft/kernel-table.ts'
import { FORWARDED_LABEL } from '../nft/labels.ts'
import { addrToDotted } from '../common/inet.ts'
import { decodeAutofw, encodeAutofw } from '../ipautofw/codec.ts'
import { type AutofwSlot, IPPROTO_TCP, protoName } from '../ipautofw/model.ts'
import { AUTOFW_TABLE, AUTOFW_TABLE_COMMENT, renderAutofw } from '../ipautofw/render.ts'
import { type MfwMark, mfwAfter, mfwRotates } from './mfw.ts'
import { EMPTY_PORTFW, type PortfwEntry, type PortfwTable, portfwCount, portfwGroups } from './portfw.ts'
import { advance, schedule } from './rotation.ts'

export interface MasqState {
  readonly autofw: readonly AutofwSlot[]
  readonly portfw: PortfwTable
  readonly mfw: readonly MfwMark[]
}

export const EMPTY_STATE: MasqState = { autofw: [], portfw: EMPTY_PORTFW, mfw: [] }

const numbers = (words: readonly string[], n: number): number[] | undefined =>
  words.length === n && words.every((w) => /^\d+$/.test(w)) ? words.map(Number) : undefined

const portfwTag = (e: Pick<PortfwEntry, 'protocol' | 'laddr' | 'lport'>): string => `portfw ${e.protocol} ${e.laddr} ${e.lport}`
const mfwTag = (mark: number): string => `mfw ${mark}`

const stateRecords = (s: MasqState): string[] => [
  ...s.autofw.map(encodeAutofw),
  ...[...s.portfw.udp, ...s.portfw.tcp].map((e) => `portfw ${e.protocol} ${e.laddr} ${e.lport} ${e.raddr} ${e.rport} ${e.pref} ${e.prefCnt}`),
  ...s.mfw.flatMap((m) => m.hosts.map((h) => `mfw ${m.mark} ${h.raddr} ${h.rport} ${h.pref} ${h.prefCnt}`)),
]

const stateFromRecords = (records: readonly string[]): MasqState => {
  const autofw: AutofwSlot[] = []
  const udp: PortfwEntry[] = []
  const tcp: PortfwEntry[] = []
  const mfw: MfwMark[] = []
  for (const record of records) {
    const [kind, ...rest] = record.split(' ')
    const slot = kind === 'autofw' ? decodeAutofw(record) : undefined
    const p = kind === 'portfw' ? numbers(rest, 7) : undefined
    const m = kind === 'mfw' ? numbers(rest, 5) : undefined
    if (slot) autofw.push(slot)
    else if (p) {
      const [protocol = 0, laddr = 0, lport = 0, raddr = 0, rport = 0, pref = 0, prefCnt = 0] = p
      ;(protocol === IPPROTO_TCP ? tcp : udp).push({ protocol, laddr, lport, raddr, rport, pref, prefCnt })
    } else if (m) {
      const [mark = 0, raddr = 0, rport = 0, pref = 0, prefCnt = 0] = m
      const last = mfw[mfw.length - 1]
      const host = { raddr, rport, pref, prefCnt }
      if (last?.mark === mark) mfw[mfw.length - 1] = { mark, hosts: [...last.hosts, host] }
      else mfw.push({ mark, hosts: [host] })
    } else throw new DecodeError(`unknown record in the table: ${record}`)
  }
  return { autofw, portfw: { udp, tcp }, mfw }
}

const portfwAfter = (t: PortfwTable, counts: ReadonlyMap<string, number>): PortfwTable => {
  if (portfwCount(t) <= 1) return t
  const replay = (list: readonly PortfwEntry[]): PortfwEntry[] =>
    portfwGroups(list).reduce(
      (current, group) => {
        const head = group[0] as PortfwEntry
        const member = (e: PortfwEntry): boolean => e.laddr === head.laddr && e.lport === head.lport
        return advance(current, member, false, counts.get(portfwTag(head)) ?? 0)
      },
      [...list],
    )
  return { udp: replay(t.udp), tcp: replay(t.tcp) }
}

/** The state the kernel is in now: records, moved on by the connections counted since. */
export const decodeMasq = (kernel: KernelTable | undefined): MasqState => {
  if (!kernel) return EMPTY_STATE
  const s = stateFromRecords(recordsOf(kernel) ?? [])
  const counts = talliesOf(kernel)
  return {
    autofw: s.autofw,
    portfw: portfwAfter(s.portfw, counts),
    mfw: s.mfw.map((m) => mfwAfter(m, counts.get(mfwTag(m.mark)) ?? 0)),
  }
}

// ---------------------------------------------------------------------------
// Rendering

const target = (addr: number, port: number): string | undefined =>
  addr === 0 ? undefined : port === 0 ? addrToDotted(addr) : `${addrToDotted(addr)}:${port}`

/** The rule forwarding to ADDR[:PORT], after `matches`. */
const forwardRule = (matches: readonly string[], addr: number, port: number): NftRule => {
  const to = target(addr, port)
  if (to === undefined) return { matches, stmts: ['drop'] }
  // nft maps a port only after a transport protocol match.
  return {
    matches: [...matches, ...(port === 0 ? [] : ['meta l4proto { tcp, udp }'])],
    stmts: [`ct label set ${FORWARDED_LABEL}`, `dnat ip to ${to}`],
  }
}

interface Rendered {
  readonly rules: NftRule[]
  readonly chains: NftChain[]
}

/** A rotating group: a tagged rule choosing the target chain by connection number. */
const rotating = <T extends { pref: number; prefCnt: number }>(
  prefix: string,
  matches: readonly string[],
  tag: string,
  list: readonly T[],
  member: (t: T) => boolean,
  skipIdle: boolean,
  to: (t: T) => NftRule,
): Rendered => {
  const runs = schedule(list, member, skipIdle)
  const targets = [...new Set(runs.map(([, , t]) => t))]
  const chainOf = (t: T): string => `${prefix}_${targets.indexOf(t)}`
  const n = runs.reduce((max, [, last]) => Math.max(max, last + 1), 0)
  const vmap = runs.map(([a, b, t]) => `${a === b ? a : `${a}-${b}`} : jump ${chainOf(t)}`).join(', ')
  return {
    rules: [{ matches, tally: true, stmts: [`numgen inc mod ${n} vmap { ${vmap} }`], comment: tag }],
    chains: targets.map((t) => ({ name: chainOf(t), rules: [to(t)] })),
  }
}

const renderPortfw = (t: PortfwTable): Rendered => {
  const rules: NftRule[] = []
  const chains: NftChain[] = []
  const lists = [t.udp, t.tcp]
  lists.forEach((list, l) =>
    portfwGroups(list).forEach((group, g) => {
      const head = group[0] as PortfwEntry
      const match = `ip daddr ${addrToDotted(head.laddr)} meta l4proto ${protoName(head.protocol)} th dport ${head.lport}`
      if (portfwCount(t) <= 1) {
        rules.push(forwardRule([match], head.raddr, head.rport))
        return
      }
      const member = (e: PortfwEntry): boolean => e.laddr === head.laddr && e.lport === head.lport
      const r = rotating(`portfw_${l}_${g}`, [match], portfwTag(head), list, member, false, (e) => forwardRule([], e.raddr, e.rport))
      rules.push(...r.rules)
      chains.push(...r.chains)
    }),
  )
  return { rules, chains }
}

// Only a TCP SYN (without ACK) or a UDP packet gets a host (2.2 ip_masq_mfw).
const renderMfw = (marks: readonly MfwMark[]): Rendered => {
  const rules: NftRule[] = []
  const chains: NftChain[] = []
  for (const m of marks) {
    const name = `mfw_${m.mark}`
    const match = `fib daddr type local meta mark ${m.mark}`
    rules.push(
      { matches: [match, 'meta l4proto tcp', 'tcp flags & (syn | ack) == syn'], stmts: [`jump ${name}`] },
      { matches: [match, 'meta l4proto udp'], stmts: [`jump ${name}`] },
    )
    const head = m.hosts[0]
    if (!mfwRotates(m) || !head) {
      chains.push({ name, rules: head ? [forwardRule([], head.raddr, head.rport)] : [] })
      continue
    }
    const r = rotating(
      name,
      [],
      mfwTag(m.mark),
      m.hosts,
      () => true,
      true,
      (h) => forwardRule([], h.raddr, h.rport),
    )
    chains.push({ name, rules: r.rules }, ...r.chains)
  }
  return { rules, chains }
}

const BASE = {
  trigger: { type: 'filter', hook: 'postrouting', priority: 'srcnat + 10', policy: 'accept' },
  natPre: { type: 'nat', hook: 'prerouting', priority: 'dstnat', policy: 'accept' },
  natPost: { type: 'nat', hook: 'postrouting', priority: 'srcnat - 1', policy: 'accept' },
} satisfies Record<string, NftBaseChain>

export const MASQADM_TABLE = 'legacyfw_ipmasqadm'
export const TABLE_COMMENT = {
  [MASQADM_TABLE]: 'ipmasqadm autofw/portfw/mfw (Linux 2.2) managed by legacyfw; list with ipmasqadm portfw -l, mfw -L, legacyfw proc',
  [AUTOFW_TABLE]: AUTOFW_TABLE_COMMENT,
}
export type MasqTable = keyof typeof TABLE_COMMENT

/** The table for a state; ipautofw's table holds autofw entries only. */
export const renderMasq = (name: MasqTable, s: MasqState): NftTable => {
  const autofw = renderAutofw(s.autofw)
  const portfw = renderPortfw(s.portfw)
  const mfw = renderMfw(s.mfw)
  return {
    family: 'ip',
    name,
    comment: TABLE_COMMENT[name],
    records: stateRecords(s),
    sets: [],
    maps: autofw.maps,
    counters: [],
    ctTimeouts: [],
    chains: [
      { name: 'trigger', base: BASE.trigger, rules: autofw.trigger },
      { name: 'nat_pre', base: BASE.natPre, rules: [...autofw.forward, ...portfw.rules, ...mfw.rules] },
      { name: 'nat_post', base: BASE.natPost, rules: autofw.direct },
      ...portfw.chains,
      ...mfw.chains,
    ],
  }
}

/** The table as this project renders what the kernel holds in table `name`. */
export const renderedMasq = (name: MasqTable, kernel: KernelTable | undefined): NftTable => renderMasq(name, decodeMasq(kernel))
