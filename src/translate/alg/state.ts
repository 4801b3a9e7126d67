// The owned table's records and back: the loaded modules, in load order.
import { DecodeError, type KernelTable, recordsOf } from '../nft/kernel-table.ts'
import type { NftTable } from '../nft/ir.ts'
import { renderAlg } from './apps.ts'
import { type LoadedApp, decodeApp } from './model.ts'

/** The loaded modules the kernel's table holds. */
export const decodeAlg = (kernel: KernelTable | undefined): LoadedApp[] =>
  (recordsOf(kernel) ?? []).map((record) => {
    const app = decodeApp(record)
    if (!app) throw new DecodeError(`unknown record in the table: ${record}`)
    return app
  })

/** The table as this project renders what the kernel holds. */
export const renderedAlg = (kernel: KernelTable | undefined): NftTable => renderAlg(decodeAlg(kernel))
