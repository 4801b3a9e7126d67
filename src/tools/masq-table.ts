// What ipautofw and ipmasqadm share: their world, one transaction that
// applies a change to an entry table's state, and how a command ends when
// the kernel or the table cannot be used.
import { Exit } from '../translate/common/exit.ts'
import { dottedToAddr } from '../translate/common/inet.ts'
import type { AutofwLive } from '../translate/ipautofw/model.ts'
import { liveOf } from '../translate/ipautofw/render.ts'
import { type SocketErrno, tableProblem } from '../translate/ipmasqadm/messages.ts'
import { type MasqState, type MasqTable, decodeMasq, renderMasq } from '../translate/ipmasqadm/state.ts'
import { DecodeError, type KernelTable } from '../translate/nft/kernel-table.ts'
import { NftMissing } from '../runtime/nft.ts'
import { CommitRejected, KernelUnavailable, type TableStore, transact } from '../runtime/store.ts'
import type { Sys } from '../runtime/sys.ts'
import { print } from './output.ts'

export interface MasqWorld {
  readonly store: TableStore
}

/** Live info learned by the packet path for autofw entries. */
export const autofwLive = (kernel: KernelTable | undefined): ((id: number) => AutofwLive | undefined) =>
  liveOf(kernel?.maps ?? new Map(), dottedToAddr)

/** Applies `change` to the table's state in one transaction; returns the kernel's errno. */
export const changeTable = <E extends string>(
  world: MasqWorld,
  table: MasqTable,
  change: (s: MasqState, k: KernelTable | undefined) => { state: MasqState; errno?: E | undefined },
): E | undefined =>
  transact(world.store, (current) => {
    const before = decodeMasq(current)
    const { state, errno } = change(before, current)
    if (errno) return { result: errno }
    return { next: renderMasq(table, state), previous: () => renderMasq(table, before), result: undefined }
  })

/** The errno of the raw socket the tools opened, for a kernel they cannot use; undefined for any other failure. */
export const socketErrno = (e: unknown): SocketErrno | undefined =>
  e instanceof KernelUnavailable
    ? e.reason === 'permission'
      ? 'EPERM'
      : 'EPROTONOSUPPORT'
    : e instanceof NftMissing
      ? 'EPROTONOSUPPORT'
      : undefined

/** Runs a command: its early exits print as the tool did, a table it cannot use ends it with the reason. */
export const guarded = async (sys: Sys, run: () => Promise<number> | number): Promise<number> => {
  try {
    return await run()
  } catch (e) {
    if (e instanceof Exit) return print(sys, e)
    if (e instanceof DecodeError || e instanceof CommitRejected) {
      sys.err(tableProblem(sys.program, e instanceof CommitRejected ? e.reason : e.message))
      return 1
    }
    throw e
  }
}
