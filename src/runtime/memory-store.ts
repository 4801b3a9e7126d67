// The kernel side of pure mode: an owned table kept in memory with the
// semantics the real store relies on (named counters keep their values
// while they exist, a generation number guards every commit).
import type { NftTable } from '../translate/nft/ir.ts'
import { type Counts, type KernelTable, kernelTableFromNft } from '../translate/nft/kernel-table.ts'
import { GENERATION_SET, generationOf } from '../translate/nft/transaction.ts'
import { tableText } from '../translate/nft/text.ts'
import type { CommitResult, TableStore } from './store.ts'

export class MemoryStore implements TableStore {
  readonly ignoresPrevious = true
  private table: NftTable | undefined
  private generation = 0
  readonly counters = new Map<string, Counts>()

  /** Has anything been committed (since the seed)? */
  get changed(): boolean {
    return this.generation > 0
  }

  /** Starts from a table the kernel holds, rendered, with its counter values. */
  seed(table: NftTable, counters: ReadonlyMap<string, Counts>): void {
    this.table = table
    this.lastRead = undefined
    for (const name of table.counters) this.counters.set(name, counters.get(name) ?? { packets: 0, bytes: 0 })
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
    const kernel = kernelTableFromNft(this.table, this.counters)
    return (this.lastRead = { ...kernel, sets: new Map([...kernel.sets, [GENERATION_SET, [String(this.generation)]]]) })
  }

  commit(current: KernelTable | undefined, next: NftTable): CommitResult {
    if ((generationOf(current) ?? 0) !== this.generation) return 'conflict'
    for (const name of this.counters.keys()) if (!next.counters.includes(name)) this.counters.delete(name)
    for (const name of next.counters) if (!this.counters.has(name)) this.counters.set(name, { packets: 0, bytes: 0 })
    this.table = next
    this.lastRead = undefined
    this.generation++
    return 'ok'
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
