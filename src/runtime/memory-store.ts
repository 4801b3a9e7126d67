// The kernel side of pure mode: an owned table kept in memory with the
// semantics the real store relies on (named counters keep their values
// while they exist, maps that stay keep what the packet path learned, a
// commit sends every tally again, a generation number guards every commit).
import type { NftRule, NftTable } from '../translate/nft/ir.ts'
import { type Counts, type KernelTable, type MapElement, kernelTableFromNft, talliesOf } from '../translate/nft/kernel-table.ts'
import { GENERATION_SET, generationOf } from '../translate/nft/transaction.ts'
import { tableText } from '../translate/nft/text.ts'
import type { CommitResult, TableStore } from './store.ts'

export interface MemoryStoreOptions {
  /**
   * Take the tools' read-free appends (TableStore.addOnly) as the kernel
   * would: a command then costs the same whatever the table holds. Off in
   * pure mode, whose fixtures need counter names that do not depend on time.
   */
  readonly appends?: boolean
}

export class MemoryStore implements TableStore {
  private table: NftTable | undefined
  private generation = 0
  readonly counters = new Map<string, Counts>()
  private learned = new Map<string, readonly MapElement[]>()
  private tallies = new Map<string, number>()
  /** Counts every change (commit, append, seed). */
  version = 0
  /** The counters the last change appended, when it was an append. */
  appended: readonly string[] | undefined
  readonly addOnly?: (text: string) => boolean

  constructor(options: MemoryStoreOptions = {}) {
    if (options.appends) this.addOnly = (text) => this.append(text)
  }

  /** Has anything changed since the seed? */
  get changed(): boolean {
    return this.version > (this.seeded ? 1 : 0)
  }

  private seeded = false

  /** Starts from a table the kernel holds, rendered, with what it counted and learned, and its generation. */
  seed(table: NftTable, kernel: KernelTable): void {
    this.table = table
    this.generation = generationOf(kernel) ?? 0
    this.learned = new Map(kernel.maps)
    this.tallies = talliesOf(kernel)
    this.lastRead = undefined
    this.seeded = true
    this.version++
    for (const name of table.counters) this.counters.set(name, kernel.counters.get(name) ?? { packets: 0, bytes: 0 })
  }

  /** The table as rendered by the last commit (or the seed). */
  nft(): NftTable | undefined {
    return this.table
  }

  // What read() returned, until the table or its counters change.
  private lastRead: KernelTable | undefined

  read(): KernelTable | undefined {
    if (!this.table) return undefined
    if (this.lastRead) return this.lastRead
    const kernel = kernelTableFromNft(this.table, { counters: this.counters, maps: this.learned, tallies: this.tallies })
    return (this.lastRead = { ...kernel, sets: new Map([...kernel.sets, [GENERATION_SET, [String(this.generation)]]]) })
  }

  commit(current: KernelTable | undefined, next: NftTable): CommitResult {
    if ((generationOf(current) ?? 0) !== this.generation) return 'conflict'
    for (const name of this.counters.keys()) if (!next.counters.includes(name)) this.counters.delete(name)
    for (const name of next.counters) if (!this.counters.has(name)) this.counters.set(name, { packets: 0, bytes: 0 })
    const kept = new Set(next.maps?.map((m) => m.name))
    this.learned = new Map([...this.learned].filter(([name]) => kept.has(name)))
    this.tallies = new Map()
    this.table = next
    this.lastRead = undefined
    this.generation++
    this.version++
    this.appended = undefined
    return 'ok'
  }

  // The transaction of a read-free append: "create counter ip T NAME" and
  // "add rule ip T CHAIN RULE" lines. Refused, as the kernel refuses it,
  // when the table, the chain or a chain it jumps to is missing or the
  // counter exists.
  private append(text: string): boolean {
    const table = this.table
    if (!table) return false
    const created: string[] = []
    const added: { chain: string; rule: NftRule }[] = []
    for (const line of text.split('\n').filter((l) => l !== '')) {
      const counter = /^create counter ip (\S+) (\S+)$/.exec(line)
      const rule = /^add rule ip (\S+) (\S+) (.*)$/.exec(line)
      if (counter?.[1] === table.name) created.push(counter[2] as string)
      else if (rule?.[1] === table.name) added.push({ chain: rule[2] as string, rule: ruleFromText(rule[3] as string) })
      else return false
    }
    const chains = new Set(table.chains.map((c) => c.name))
    const counters = new Set([...table.counters, ...created])
    if (created.some((c) => table.counters.includes(c)) || new Set(created).size !== created.length) return false
    for (const { chain, rule } of added) {
      if (!chains.has(chain) || (rule.counter !== undefined && !counters.has(rule.counter))) return false
      if (rule.stmts.some((s) => [...s.matchAll(/\b(?:jump|goto) (\S+)/g)].some((m) => !chains.has(m[1] as string)))) return false
    }
    this.table = {
      ...table,
      counters: [...table.counters, ...created],
      chains: table.chains.map((c) => {
        const more = added.filter((a) => a.chain === c.name).map((a) => a.rule)
        return more.length ? { ...c, rules: [...c.rules, ...more] } : c
      }),
    }
    for (const name of created) this.counters.set(name, { packets: 0, bytes: 0 })
    this.lastRead = undefined
    this.version++
    this.appended = created
    return true
  }

  resetCounters(names: readonly string[]): Map<string, Counts> {
    this.lastRead = undefined
    const values = new Map<string, Counts>()
    for (const name of names) {
      const value = this.counters.get(name)
      if (!value) continue
      values.set(name, value)
      this.counters.set(name, { packets: 0, bytes: 0 })
    }
    return values
  }

  /** The table as `nft -f` text, '' when none exists. */
  text(): string {
    return this.table ? tableText(this.table) : ''
  }
}

/** A rule as the text ruleText() wrote: what precedes the counter, the counter, what follows, the comment. */
const ruleFromText = (text: string): NftRule => {
  const comment = / ?comment "([^"]*)"$/.exec(text)
  const body = comment ? text.slice(0, comment.index) : text
  const counter = /(?:^| )counter name "([^"]*)"(?: |$)/.exec(body)
  const before = counter ? body.slice(0, counter.index) : body
  const after = counter ? body.slice(counter.index + counter[0].length) : ''
  return {
    matches: before.trim() ? [before.trim()] : [],
    ...(counter ? { counter: counter[1] as string } : {}),
    stmts: after.trim() ? [after.trim()] : [],
    ...(comment ? { comment: comment[1] as string } : {}),
  }
}
