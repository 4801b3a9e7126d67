// The tables legacyfw owns, and the legacy commands acting on each: what
// `legacyfw translate` and `legacyfw run` need to serve a script's commands
// from memory and to write or apply the state they leave, what bin/ and the
// golden fixtures provide. Rule tables (ipchains, ipfwadm) name a counter
// per legacy rule; entry tables (ipautofw, ipmasqadm) hold one record per
// legacy entry (NftTable.records).
import type { MasqForwarding } from '../translate/common/masq.ts'
import type { NftTable } from '../translate/nft/ir.ts'
import type { KernelTable } from '../translate/nft/kernel-table.ts'
import { decodeState } from '../translate/ipchains/decode.ts'
import { INITIAL_STATE, type State } from '../translate/ipchains/model.ts'
import { TABLE_NAME as IPCHAINS_TABLE, renderState } from '../translate/ipchains/render.ts'
import { ipchainsNotes, savedRuleLines } from '../translate/ipchains/notes.ts'
import type { TableStore } from '../runtime/store.ts'
import type { Sys } from '../runtime/sys.ts'
import { decodeState as decodeFwadm } from '../translate/ipfwadm/decode.ts'
import { INITIAL_STATE as FWADM_INITIAL, type State as FwadmState } from '../translate/ipfwadm/model.ts'
import { TABLE_NAME as IPFWADM_TABLE, renderState as renderFwadm } from '../translate/ipfwadm/render.ts'
import { ipfwadmNotes } from '../translate/ipfwadm/notes.ts'
import { type Interfaces, viaAddrOf } from '../translate/ipfwadm/via.ts'
import { recordsOf } from '../translate/nft/kernel-table.ts'
import { readInterfaces } from '../runtime/interfaces.ts'
import { ipchainsMain } from './ipchains.ts'
import { ipfwadmMain } from './ipfwadm.ts'
import { AUTOFW_TABLE } from '../translate/ipautofw/render.ts'
import { EMPTY_STATE, MASQADM_TABLE, type MasqTable, renderMasq, renderedMasq } from '../translate/ipmasqadm/state.ts'
import { ipautofwMain } from './ipautofw.ts'
import { ipmasqadmMain } from './ipmasqadm.ts'
import { masqNotes } from '../translate/ipmasqadm/notes.ts'
import { ipchainsRestoreMain } from './ipchains-restore.ts'
import { ipchainsSaveMain } from './ipchains-save.ts'
import { type UserlandMain, ifconfigMain, netstatMain, routeMain } from './era.ts'
import { MODULE_COMMANDS } from './modules.ts'
import { ALG_TABLE, renderAlg } from '../translate/alg/apps.ts'
import { renderedAlg } from '../translate/alg/state.ts'
import { algNotes } from '../translate/alg/notes.ts'

/** What a legacy command sees of the kernel. */
export interface LegacyWorld {
  readonly store: TableStore
  /** conntrack table lines, or undefined if it cannot be read. */
  readonly conntrack: () => string | undefined
  /** What the ipautofw/ipmasqadm tables forward (the masquerade listings). */
  readonly forwarding: () => MasqForwarding
  /** Called after a commit that leaves ipfwadm -V rules (keeps their sets current); absent in the sandbox. */
  readonly watchVia?: () => void
  /** Called after a commit that leaves logging rules (their lines need the runtime); absent in the sandbox. */
  readonly startRuntime?: () => void
  /** translate: a module command for modules that are not legacyfw's is recorded, not run (tools/modules.ts). */
  readonly recordModule?: (argv: readonly string[]) => void
}

export type LegacyMain = (args: readonly string[], sys: Sys, world: LegacyWorld) => Promise<number>

/** A table in canonical form: counters named r1, r2, ... in listing order (an entry table has none). */
export interface Canonical {
  readonly table: NftTable
  /** Counter name in the table given -> its canonical name. */
  readonly renamed: ReadonlyMap<string, string>
}

/** A saved ruleset format (`legacyfw translate --from FORMAT FILE`). */
export interface SavedFormat {
  /** The command that loads it from stdin, and its arguments. */
  readonly command: string
  readonly args: readonly string[]
  /** The file line (1-based) that made each rule, by counter name, once loaded. */
  readonly ruleLines: (text: string, table: KernelTable) => ReadonlyMap<string, number>
}

export interface OwnedTable {
  readonly family: 'ip'
  readonly name: string
  readonly commands: Readonly<Record<string, LegacyMain>>
  readonly canonical: (table: KernelTable) => Canonical
  /** The table before any command: what a first command finds there already is nobody's doing. */
  readonly initial: NftTable
  /** The table as this project renders what `table` holds (a script's starting point). */
  readonly rendered: (table: KernelTable) => NftTable
  /** What nftables makes differ from the old kernel, by the counter of the rule (or the record of the entry) it concerns. */
  readonly notes: (table: KernelTable) => ReadonlyMap<string, readonly string[]>
  readonly saved: Readonly<Record<string, SavedFormat>>
}

const renumberCounters = (state: State): { state: State; renamed: Map<string, string> } => {
  const renamed = new Map<string, string>()
  const chains = state.chains.map((c) => ({
    ...c,
    entries: c.entries.map((e) => {
      const name = `r${renamed.size + 1}`
      renamed.set(e.counter, name)
      return { ...e, counter: name }
    }),
  }))
  return { state: { ...state, chains, counterSeq: renamed.size }, renamed }
}

const IPCHAINS: OwnedTable = {
  family: 'ip',
  name: IPCHAINS_TABLE,
  commands: { ipchains: ipchainsMain, 'ipchains-save': ipchainsSaveMain, 'ipchains-restore': ipchainsRestoreMain },
  canonical: (table) => {
    const { state, renamed } = renumberCounters(decodeState(table))
    return { table: renderState(state), renamed }
  },
  initial: renderState(INITIAL_STATE),
  rendered: (table) => renderState(decodeState(table)),
  notes: (table) => ipchainsNotes(decodeState(table)),
  saved: { 'ipchains-save': { command: 'ipchains-restore', args: ['-p'], ruleLines: (text, table) => savedRuleLines(text, decodeState(table)) } },
}

// ipfwadm: counters renumbered in the order the table declares them
// (accounting, input, forward, output); -V sets get the interfaces of the
// namespace the script runs in (the sandbox's, in translate).
const renumberFwadm = (state: FwadmState): { state: FwadmState; renamed: Map<string, string> } => {
  const renamed = new Map<string, string>()
  const order = ['accounting', 'input', 'forward', 'output'] as const
  const chains = { ...state.chains }
  for (const category of order)
    chains[category] = {
      ...state.chains[category],
      entries: state.chains[category].entries.map((e) => {
        const name = `r${renamed.size + 1}`
        renamed.set(e.counter, name)
        return { ...e, counter: name }
      }),
    }
  return { state: { ...state, chains, counterSeq: renamed.size }, renamed }
}

/** The interfaces in the sets of the table's -V rules, as the kernel (or memory) holds them. */
const viaInterfaces = (table: KernelTable): Interfaces => {
  const interfaces = new Map<string, number>()
  for (const [name, values] of table.sets) {
    const addr = viaAddrOf(name)
    if (addr !== undefined) for (const iface of values) interfaces.set(iface, addr)
  }
  return interfaces
}

const IPFWADM: OwnedTable = {
  family: 'ip',
  name: IPFWADM_TABLE,
  commands: {
    ipfwadm: (args, sys, world) =>
      ipfwadmMain(args, sys, { ...world, interfaces: readInterfaces, ...(world.watchVia ? { watchVia: world.watchVia } : {}) }),
  },
  canonical: (table) => {
    const { state, renamed } = renumberFwadm(decodeFwadm(table))
    return { table: renderFwadm(state, viaInterfaces(table)), renamed }
  },
  initial: renderFwadm(FWADM_INITIAL, new Map()),
  rendered: (table) => renderFwadm(decodeFwadm(table), viaInterfaces(table)),
  notes: (table) => ipfwadmNotes(decodeFwadm(table)),
  saved: {},
}

// Entry tables: the records are the state, so the rendered table is canonical.
const entryTable = (name: MasqTable, commands: Record<string, LegacyMain>): OwnedTable => ({
  family: 'ip',
  name,
  commands,
  canonical: (table) => ({ table: renderedMasq(name, table), renamed: new Map() }),
  initial: renderMasq(name, EMPTY_STATE),
  rendered: (table) => renderedMasq(name, table),
  notes: (table) => masqNotes(recordsOf(table) ?? []),
  saved: {},
})

// The masquerading helpers a script loaded (modprobe ip_masq_ftp, ...): a
// table of entries, one record per loaded module; the module commands
// (tools/modules.ts) change it, so it names no legacy command of its own.
export const ALG: OwnedTable = {
  family: 'ip',
  name: ALG_TABLE,
  commands: {},
  canonical: (table) => ({ table: renderedAlg(table), renamed: new Map() }),
  initial: renderAlg([]),
  rendered: renderedAlg,
  notes: (table) => algNotes(recordsOf(table) ?? []),
  saved: {},
}

export const OWNED_TABLES: readonly OwnedTable[] = [
  IPCHAINS,
  IPFWADM,
  entryTable(AUTOFW_TABLE, { ipautofw: ipautofwMain }),
  entryTable(MASQADM_TABLE, { ipmasqadm: ipmasqadmMain }),
  ALG,
]

/** The table a legacy command acts on. */
export const commandTable = (command: string): OwnedTable | undefined => OWNED_TABLES.find((t) => Object.hasOwn(t.commands, command))

/** The legacy commands legacyfw provides (bin/<command>, fixtures/<command>/), in registry order. */
export const LEGACY_COMMANDS: readonly string[] = OWNED_TABLES.flatMap((t) => Object.keys(t.commands))

/**
 * The 2.2-era userland commands scripts read addresses from and set
 * interfaces and routes with (tools/era.ts): they own no table, and act on
 * the network the script runs in (the sandbox's, in translate).
 */
export const USERLAND_COMMANDS: Readonly<Record<string, UserlandMain>> = { ifconfig: ifconfigMain, route: routeMain, netstat: netstatMain }

/**
 * Every command `legacyfw run` and `translate` serve: the legacy commands,
 * the userland ones, and the module commands (tools/modules.ts), which act
 * on the helper table.
 */
export const SERVED_COMMANDS: readonly string[] = [...LEGACY_COMMANDS, ...Object.keys(USERLAND_COMMANDS), ...Object.keys(MODULE_COMMANDS)]

/** A served command: its main, and the table it acts on (none for the userland commands). */
export type ServedCommand = { readonly table: OwnedTable; readonly main: LegacyMain } | { readonly table?: undefined; readonly main: UserlandMain }

export const servedCommand = (command: string): ServedCommand | undefined => {
  const table = commandTable(command)
  if (table) return { table, main: table.commands[command] as LegacyMain }
  if (Object.hasOwn(USERLAND_COMMANDS, command)) return { main: USERLAND_COMMANDS[command] as UserlandMain }
  return Object.hasOwn(MODULE_COMMANDS, command) ? { table: ALG, main: MODULE_COMMANDS[command as keyof typeof MODULE_COMMANDS] } : undefined
}

/**
 * Host-global tools scripts call (listing modules, stopping a service,
 * rebooting): recorded by translate, never run there; \`legacyfw run\` lets
 * them act, as at boot. The module commands among them are served instead
 * where the script is served (SERVED_COMMANDS); the unserved sandbox
 * records them too.
 */
export const STUBBED_TOOLS = [
  'modprobe',
  'insmod',
  'rmmod',
  'depmod',
  'lsmod',
  'reboot',
  'halt',
  'poweroff',
  'shutdown',
  'init',
  'telinit',
  'systemctl',
] as const
