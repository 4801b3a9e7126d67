// The kernel's side of an autofw command (2.0 ip_autofw_add/del/flush, 2.2
// ip_masq_autofw): add puts the entry at the head with no duplicate check,
// delete removes the first entry equal in everything but the flags (with
// `where` as the packet path left it), flush empties the table.
import type { AutofwCommand } from './parse.ts'
import { type AutofwEntry, type AutofwLive, type AutofwSlot, currentWhere, sameEntry } from './model.ts'

export interface AutofwResult {
  readonly slots: readonly AutofwSlot[]
  /** EINVAL: nothing to delete. */
  readonly errno?: 'EINVAL'
}

export const applyAutofw = (
  command: AutofwCommand,
  request: AutofwEntry,
  slots: readonly AutofwSlot[],
  live: (id: number) => AutofwLive | undefined,
  newId: number,
): AutofwResult => {
  if (command === 'flush') return { slots: [] }
  if (command === 'add') return { slots: [{ id: newId, entry: request }, ...slots] }
  const at = slots.findIndex((s) => sameEntry(s.entry, currentWhere(s.entry, live(s.id)), request))
  if (at === -1) return { slots, errno: 'EINVAL' }
  return { slots: slots.filter((_, i) => i !== at) }
}
