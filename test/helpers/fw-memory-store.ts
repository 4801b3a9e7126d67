// Pure mode for the ipautofw/ipmasqadm tables: the table kept in memory,
// guarded by a generation number like the kernel's.
import { type FwKernel, type FwTable, fwKernelFromTable, tableText } from '../../src/translate/ipmasqadm/table.ts'
import type { FwCommit, FwStore } from '../../src/runtime/fwstore.ts'

export class MemoryFwStore implements FwStore {
  private table: FwTable | undefined
  private generation = 0

  read(): FwKernel | undefined {
    return this.table ? fwKernelFromTable(this.table, this.generation) : undefined
  }

  commit(current: FwKernel | undefined, next: FwTable): FwCommit {
    if ((current?.generation ?? 0) !== this.generation) return 'conflict'
    this.table = next
    this.generation++
    return 'ok'
  }

  /** The table as `nft -f` text, '' when none exists. */
  text(): string {
    return this.table ? tableText(this.table) : ''
  }
}
