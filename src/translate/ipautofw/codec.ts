// An autofw entry as a record in the owned table:
// "autofw ID TYPE PROTO LOW HIGH VISIBLE HIDDEN WHERE CTLPROTO CTLPORT FLAGS".
import type { AutofwSlot } from './model.ts'

const FIELDS = ['type', 'protocol', 'low', 'high', 'visible', 'hidden', 'where', 'ctlproto', 'ctlport', 'flags'] as const

export const encodeAutofw = (slot: AutofwSlot): string => ['autofw', slot.id, ...FIELDS.map((f) => slot.entry[f])].join(' ')

export const decodeAutofw = (record: string): AutofwSlot | undefined => {
  const words = record.split(' ')
  if (words[0] !== 'autofw' || words.length !== FIELDS.length + 2 || words.slice(1).some((w) => !/^\d+$/.test(w))) return undefined
  const [id, ...values] = words.slice(1).map(Number)
  const entry = Object.fromEntries(FIELDS.map((f, i) => [f, values[i] ?? 0])) as unknown as AutofwSlot['entry']
  return { id: id ?? 0, entry }
}
