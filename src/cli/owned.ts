// The tables legacyfw owns, and the legacy commands acting on each: what
// `legacyfw translate` and `legacyfw run` need to serve a script's commands
// from memory and to write or apply the state they leave. Each tool adds
// its table here (ipfwadm, ipautofw/ipmasqadm plug in the same way).
import type { NftTable } from '../translate/nft/ir.ts'
import type { KernelTable } from '../translate/nft/kernel-table.ts'
import { decodeState } from '../translate/ipchains/decode.ts'
import { INITIAL_STATE, type State } from '../translate/ipchains/model.ts'
import { TABLE_NAME as IPCHAINS_TABLE, renderState } from '../translate/ipchains/render.ts'
import { ipchainsNotes, savedRuleLines } from '../translate/ipchains/notes.ts'
import type { TableStore } from '../runtime/store.ts'
import type { Sys } from '../runtime/sys.ts'
import { ipchainsMain } from './ipchains.ts'
import { ipchainsRestoreMain } from './ipchains-restore.ts'
import { ipchainsSaveMain } from './ipchains-save.ts'

/** What a legacy command sees of the kernel. */
export interface LegacyWorld {
  readonly store: TableStore
  /** conntrack table lines, or undefined if it cannot be read. */
  readonly conntrack: () => string | undefined
}

export type LegacyMain = (args: readonly string[], sys: Sys, world: LegacyWorld) => Promise<number>

/** A table in canonical form: counters named r1, r2, ... in listing order. */
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
  /** What nftables makes differ from the old kernel, by the counter of the rule it concerns. */
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

export const OWNED_TABLES: readonly OwnedTable[] = [IPCHAINS]

/** The legacy commands legacyfw serves, and the table each acts on. */
export const commandTable = (command: string): OwnedTable | undefined => OWNED_TABLES.find((t) => Object.hasOwn(t.commands, command))

/** Every legacy command name, served or not yet: the script's calls to them are intercepted. */
export const LEGACY_COMMANDS = ['ipchains', 'ipchains-save', 'ipchains-restore', 'ipfwadm', 'ipmasqadm', 'ipautofw'] as const
