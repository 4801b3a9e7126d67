// The module table: what each helper app adds to the owned table
// `ip legacyfw_masqapp`, one pure renderer per app, and the table rendered
// from the records of the loaded modules.
import type { NftBaseChain, NftChain, NftCtHelper, NftMap, NftRule, NftSet, NftTable } from '../nft/ir.ts'
import { FORWARDED_LABEL } from '../nft/labels.ts'
import { ruleText } from '../nft/text.ts'
import { renderFtp } from './ftp.ts'
import { renderIrc } from './irc.ts'
import { type AppName, type LoadedApp, encodeApp } from './model.ts'
import { renderSip } from './sip.ts'
import { renderCuseeme } from './cuseeme.ts'
import { renderQuake } from './quake.ts'
import { renderRaudio } from './raudio.ts'
import { renderVdolive } from './vdolive.ts'

/** What one loaded module adds to the table. */
export interface AppRendering {
  readonly ctHelpers?: readonly NftCtHelper[]
  /** Rules of the `forward` chain: after the legacy tables' forward chains marked the connection. */
  readonly forward?: readonly NftRule[]
  /** Rules of the `postrouting` chain: after masquerading (ip saddr is the masquerade address). */
  readonly postrouting?: readonly NftRule[]
  /** Rules of the `nat_pre` chain: destination NAT of the holes the app opens. */
  readonly natPrerouting?: readonly NftRule[]
  readonly sets?: readonly NftSet[]
  readonly maps?: readonly NftMap[]
  /** Chains of the app's own, jumped to from the table's hook chains. */
  readonly chains?: readonly NftChain[]
}

/**
 * Every helper app, by name. raudio's PNA hellos and RTSP SETUPs are parsed by the
 * resident runtime (raudio.ts); its table part is the hole map.
 */
export const APPS: Readonly<Record<AppName, (app: LoadedApp) => AppRendering>> = {
  ftp: renderFtp,
  irc: renderIrc,
  sip: renderSip,
  cuseeme: renderCuseeme,
  vdolive: renderVdolive,
  quake: renderQuake,
  raudio: renderRaudio,
}

export const ALG_TABLE = 'legacyfw_masqapp'
export const ALG_TABLE_COMMENT = 'masquerading application helpers (ip_masq_* modules) managed by legacyfw; list with legacyfw proc ip_masq/app'

const BASE = {
  // Before the legacy forward chains (priority 0) look at it.
  expected: { type: 'filter', hook: 'forward', priority: 'filter - 10', policy: 'accept' },
  forward: { type: 'filter', hook: 'forward', priority: 'filter + 10', policy: 'accept' },
  postrouting: { type: 'filter', hook: 'postrouting', priority: 'srcnat + 10', policy: 'accept' },
  natPre: { type: 'nat', hook: 'prerouting', priority: 'dstnat', policy: 'accept' },
} satisfies Record<string, NftBaseChain>

// A connection a kernel helper expected and de-masquerades (the FTP data
// connection from the server, a DCC chat, RTP from the callee) is a
// de-masqueraded one: it skips forward, as 2.2's helper-made entries did.
// Its first packet is `related` (conntrack found the expectation), never `new`.
const EXPECTED: NftRule = {
  matches: ['ct state related', 'ct direction original', 'ct status expected', 'ct status dnat'],
  stmts: [`ct label set ${FORWARDED_LABEL}`],
  comment: 'helper-made connections to an internal host skip forward (2.2)',
}

// nat_pre holds only the holes (vdolive, quake). A hole keys on a gateway
// port (vdolive: the client's own, quake: the connect's masquerade port,
// which nftables picks without looking at sockets); 2.2's masquerade ports
// never met a local socket, so a hole never takes a port a socket on the
// gateway holds: the gateway's service (mDNS on 5353, ...) keeps its datagrams.
const HOLE_GUARD: NftRule = {
  matches: ['meta l4proto udp', 'socket transparent { 0, 1 }'],
  stmts: ['return'],
  comment: 'a hole never takes a port a local socket holds',
}

const byName = <T extends { name: string }>(items: readonly T[]): T[] => [...new Map(items.map((i) => [i.name, i])).values()]
const distinctRules = (rules: readonly NftRule[]): NftRule[] => [...new Map(rules.map((r) => [ruleText(r), r])).values()]

const guarded = (holes: readonly NftRule[]): NftRule[] => (holes.length ? [HOLE_GUARD, ...holes] : [])

/** The table of the loaded modules, in load order. */
export const renderAlg = (apps: readonly LoadedApp[]): NftTable => {
  const rendered = apps.map((a) => APPS[a.app](a))
  const ctHelpers = byName(rendered.flatMap((r) => r.ctHelpers ?? []))
  return {
    family: 'ip',
    name: ALG_TABLE,
    comment: ALG_TABLE_COMMENT,
    records: apps.map(encodeApp),
    sets: byName(rendered.flatMap((r) => r.sets ?? [])),
    maps: byName(rendered.flatMap((r) => r.maps ?? [])),
    counters: [],
    ctTimeouts: [],
    ctHelpers,
    // A hook without rules is left out.
    chains: [
      { name: 'expected', base: BASE.expected, rules: ctHelpers.length ? [EXPECTED] : [] },
      { name: 'forward', base: BASE.forward, rules: distinctRules(rendered.flatMap((r) => r.forward ?? [])) },
      { name: 'postrouting', base: BASE.postrouting, rules: distinctRules(rendered.flatMap((r) => r.postrouting ?? [])) },
      { name: 'nat_pre', base: BASE.natPre, rules: guarded(distinctRules(rendered.flatMap((r) => r.natPrerouting ?? []))) },
      ...byName(rendered.flatMap((r) => r.chains ?? [])),
    ].filter((c) => c.base === undefined || c.rules.length > 0),
  }
}
