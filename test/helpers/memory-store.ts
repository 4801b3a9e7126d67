// The kernel side of pure mode: an owned table kept in memory with the
// semantics the real store relies on (named counters keep their values
// while they exist, a generation number guards every commit).
import type { NftTable } from '../../src/translate/nft/ir.ts'
import { type Counts, type KernelTable, kernelTableFromNft } from '../../src/translate/nft/kernel-table.ts'
import { GENERATION_SET, generationOf } from '../../src/translate/nft/transaction.ts'
import { tableText } from '../../src/translate/nft/text.ts'
import type { CommitResult, TableStore } from '../../src/runtime/store.ts'

export class MemoryStore implements TableStore {
  private table: NftTable | undefined
  private generation = 0
  readonly counters = new Map<string, Counts>()

  read(): KernelTable | undefined {
    if (!this.table) return undefined
    const kernel = kernelTableFromNft(this.table, this.counters)
    return { ...kernel, sets: new Map([...kernel.sets, [GENERATION_SET, [String(this.generation)]]]) }
  }

  commit(current: KernelTable | undefined, next: NftTable): CommitResult {
    if ((generationOf(current) ?? 0) !== this.generation) return 'conflict'
    for (const name of this.counters.keys()) if (!next.counters.includes(name)) this.counters.delete(name)
    for (const name of next.counters) if (!this.counters.has(name)) this.counters.set(name, { packets: 0, bytes: 0 })
    this.table = next
    this.generation++
    return 'ok'
  }

  resetCounters(names: readonly string[]): Map<string, Counts> {
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
