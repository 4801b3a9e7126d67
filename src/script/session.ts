// The legacy commands of one script, served from memory by one process:
// each owned table lives in a MemoryStore for the length of the script, and
// every command runs the tool's own main against it, so it prints, fails
// and lists exactly as it would against the kernel. The session remembers
// which script line made each rule, chain and policy, and every call.
import { readFileSync } from 'node:fs'
import type { NftTable } from '../translate/nft/ir.ts'
import { type KernelTable, kernelTableFromNft, recordsOf } from '../translate/nft/kernel-table.ts'
import { type LegacyMain, type OwnedTable, servedCommand } from '../tools/registry.ts'
import { readForwarding } from '../runtime/forwarding.ts'
import { readConntrack } from '../runtime/conntrack.ts'
import { MemoryStore } from '../runtime/memory-store.ts'
import { type Sys, realSys } from '../runtime/sys.ts'

export interface Request {
  /** The calling shell process (its stdin is read through /proc). */
  readonly pid: number
  /** The legacy command, e.g. "ipchains". */
  readonly command: string
  /** The word the script used, e.g. "/sbin/ipchains" or "$IPCHAINS"'s value. */
  readonly as: string
  /** "FILE:LINE" of the call, or "?" when unknown. */
  readonly where: string
  readonly stdinIsTty: boolean
  readonly args: readonly string[]
}

export interface Reply {
  readonly status: number
  readonly stdout: string
  readonly stderr: string
}

export interface CallRecord extends Reply {
  readonly where: string
  readonly argv: readonly string[]
  /** No legacyfw tool serves this command yet. */
  readonly unsupported: boolean
}

/** Where each rule (by counter name, or an entry by its record) and chain (by name) of a table came from. */
export interface Origins {
  readonly rules: Map<string, string>
  readonly chains: Map<string, string>
}

// Each table is indexed once: a command's "after" is the next one's "before".
const indexed = new WeakMap<KernelTable, Map<string, string | undefined>>()
const ruleComments = (table: KernelTable): Map<string, string | undefined> => {
  let comments = indexed.get(table)
  if (comments) return comments
  comments = new Map()
  for (const chain of table.chains) for (const rule of chain.rules) if (rule.counter !== undefined) comments.set(rule.counter, rule.comment)
  indexed.set(table, comments)
  return comments
}

/** What the session keeps of one owned table. */
interface TableState {
  readonly store: MemoryStore
  readonly origins: Origins
  /** Every call that changed the table, with the input it read: what a replay runs again. */
  readonly changes: { req: Request; stdin: string | undefined }[]
  /** The table as the kernel held it when the session started. */
  seed?: KernelTable
}

export class Session {
  readonly calls: CallRecord[] = []
  /** Each owned table the script used, in the order it first did. */
  private readonly tables = new Map<OwnedTable, TableState>()
  /** Called after an ipfwadm commit that leaves -V rules (legacyfw run: the kernel gets them at the end). */
  watchVia: (() => void) | undefined
  /** Called after a commit that leaves logging rules (legacyfw run: the runtime starts once they are applied). */
  startRuntime: (() => void) | undefined
  /** translate: module commands for modules that are not legacyfw's are recorded here, not run. */
  recordedModules: { where: string; argv: readonly string[] }[] | undefined
  private readonly names = realSys('legacyfw').names

  private stateOf(owned: OwnedTable): TableState {
    let state = this.tables.get(owned)
    if (!state)
      this.tables.set(owned, (state = { store: new MemoryStore({ appends: true }), origins: { rules: new Map(), chains: new Map() }, changes: [] }))
    return state
  }

  /** Starts a table from what the kernel holds (legacyfw run). */
  seed(owned: OwnedTable, table: KernelTable): void {
    const state = this.stateOf(owned)
    state.store.seed(owned.rendered(table), table)
    state.seed = table
  }

  /** The table as the kernel held it when the session started (undefined: there was none). */
  seedOf(owned: OwnedTable): KernelTable | undefined {
    return this.tables.get(owned)?.seed
  }

  /**
   * The table this session's changes give when made again on \`current\`
   * (what the kernel holds now, after other writers): the calls that changed
   * it run again, in order, with the input they read; their output is not
   * shown again.
   */
  async replayOn(owned: OwnedTable, current: KernelTable | undefined): Promise<NftTable | undefined> {
    const replay = new Session()
    if (current) replay.seed(owned, current)
    for (const { req, stdin } of this.tables.get(owned)?.changes ?? []) await replay.call(req, stdin ?? '')
    return replay.tableOf(owned)
  }

  /**
   * The table this session leaves, rendered afresh: the read-free appends
   * added one linear rule each, rendering folds runs of them (nft/fold.ts).
   */
  tableOf(owned: OwnedTable): NftTable | undefined {
    const kernel = this.storeOf(owned).read()
    return kernel && owned.rendered(kernel)
  }

  storeOf(owned: OwnedTable): MemoryStore {
    return this.stateOf(owned).store
  }

  originsOf(owned: OwnedTable): Origins {
    return this.stateOf(owned).origins
  }

  /**
   * The tables the script changed, with what they hold now: tables of rules
   * first, then tables of entries, each in the order the script first used
   * them (the order translations have always listed them in).
   */
  changed(): [OwnedTable, KernelTable][] {
    const holdsEntries = (owned: OwnedTable): number => (owned.initial.records === undefined ? 0 : 1)
    return [...this.tables]
      .sort(([a], [b]) => holdsEntries(a) - holdsEntries(b))
      .flatMap(([owned, { store }]) => {
        const table = store.changed ? store.read() : undefined
        return table ? [[owned, table] as [OwnedTable, KernelTable]] : []
      })
  }

  async call(req: Request, stdin?: string): Promise<Reply> {
    const command = servedCommand(req.command)
    if (!command) {
      const reply = { status: 127, stdout: '', stderr: `${req.as}: not supported by legacyfw yet\n` }
      this.calls.push({ ...reply, where: req.where, argv: [req.as, ...req.args], unsupported: true })
      return reply
    }
    let stdout = ''
    let stderr = ''
    let read = stdin
    const sys: Sys = {
      ...realSys(req.as),
      out: (text) => (stdout += text),
      err: (text) => (stderr += text),
      stdinIsTty: () => req.stdinIsTty,
      readStdin: () => (read ??= readStdinOf(req.pid)),
      names: this.names,
    }
    const owned = command.table
    const version = owned && this.storeOf(owned).version
    const status = command.table ? await this.run(command.table, command.main, req, sys) : await command.main(req.args, sys)
    if (owned && this.storeOf(owned).version !== version) this.stateOf(owned).changes.push({ req, stdin: read })
    const reply = { status, stdout, stderr }
    this.calls.push({ ...reply, where: req.where, argv: [req.as, ...req.args], unsupported: false })
    return reply
  }

  private async run(owned: OwnedTable, main: LegacyMain, req: Request, sys: Sys): Promise<number> {
    const store = this.storeOf(owned)
    const version = store.version
    // The table as it was (a reference: cheap), read as the kernel would only if needed.
    const before = store.nft() ?? owned.initial
    const status = await main(req.args, sys, {
      store,
      conntrack: readConntrack,
      forwarding: readForwarding,
      ...(this.watchVia ? { watchVia: this.watchVia } : {}),
      ...(this.startRuntime ? { startRuntime: this.startRuntime } : {}),
      ...(this.recordedModules ? { recordModule: (argv: readonly string[]) => this.recordedModules?.push({ where: req.where, argv }) } : {}),
    })
    // An append names its new rules; anything else is found by comparing.
    if (store.version === version + 1 && store.appended) for (const counter of store.appended) this.originsOf(owned).rules.set(counter, req.where)
    else if (store.version !== version) this.remember(owned, kernelTableFromNft(before, { counters: new Map() }), store.read(), req.where)
    return status
  }

  // In a table of entries, an entry whose record is new came from this call
  // (its chains follow from the entries). In a table of rules, a rule whose
  // counter is new, or whose record changed (a policy), came from this call;
  // so did a chain that did not exist before.
  private remember(owned: OwnedTable, before: KernelTable, after: KernelTable | undefined, where: string): void {
    if (!after) return
    const origins = this.originsOf(owned)
    const records = recordsOf(after)
    if (records) {
      const old = new Set(recordsOf(before))
      for (const record of records) if (!old.has(record)) origins.rules.set(record, where)
      return
    }
    const old = ruleComments(before)
    for (const [counter, comment] of ruleComments(after)) if (!old.has(counter) || old.get(counter) !== comment) origins.rules.set(counter, where)
    const oldChains = new Set(before.chains.map((c) => c.name))
    for (const c of after.chains) if (!oldChains.has(c.name)) origins.chains.set(c.name, where)
  }
}

const readStdinOf = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/fd/0`, 'utf8')
  } catch {
    return ''
  }
}

/** How a calling file is named in reports: the script itself is "script". */
export const displayWhere = (where: string, scriptPath: string): string => {
  const colon = where.lastIndexOf(':')
  if (colon < 0) return where
  const file = where.slice(0, colon)
  return `${file === scriptPath ? 'script' : file === '' || file === 'main' ? '?' : file}:${where.slice(colon + 1)}`
}
