// What `legacyfw translate` tells the user about ipautofw/ipmasqadm entries:
// where nftables makes them behave differently from 2.0/2.2
// (docs/divergences.md, ipautofw / ipmasqadm section), by record.
import { decodeAutofw } from '../ipautofw/codec.ts'
import { TYPE } from '../ipautofw/model.ts'

const SEE = 'see docs/divergences.md'

const recordNotes = (record: string, records: readonly string[]): string[] => {
  const kind = record.split(' ')[0]
  const slot = decodeAutofw(record)
  if (slot && slot.entry.type === TYPE.RANGE && slot.entry.ctlport !== 0)
    return [`autofw learns the host that used the control port per external address (${SEE})`]
  // A rotation needs several hosts for one local port (portfw PROTO LADDR LPORT) or mark (mfw MARK).
  const group = (r: string): string =>
    r
      .split(' ')
      .slice(0, kind === 'portfw' ? 4 : 2)
      .join(' ')
  if ((kind === 'portfw' || kind === 'mfw') && records.filter((r) => group(r) === group(record)).length > 1)
    return [
      `${kind} preference rotations restart where they stand at each command; a turn is taken when conntrack first sees a connection (${SEE})`,
    ]
  return []
}

/** Divergence notes by record. */
export const masqNotes = (records: readonly string[]): Map<string, string[]> => {
  const notes = new Map<string, string[]>()
  for (const record of records) {
    const found = recordNotes(record, records)
    if (found.length) notes.set(record, found)
  }
  return notes
}
