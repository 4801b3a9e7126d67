// /proc/net/ip_autofw (2.0) and /proc/net/ip_masq/autofw (2.2): one line per
// entry, newest first, addresses as host-order hex.
import { type AutofwLive, type AutofwSlot, FLAG, currentWhere } from './model.ts'

const HZ = 100
const hex = (n: number, width: number): string => n.toString(16).toUpperCase().padStart(width, '0')
const right = (text: string, width: number): string => text.padStart(width)

export const AUTOFW_PROC_HEADER = 'Type Prot Low  High Vis  Hid  Where    Last     CPto CPrt Timer Flags\n'

export const autofwProcLine = (slot: AutofwSlot, live: AutofwLive | undefined): string => {
  const e = slot.entry
  const active = live?.lastcontact !== undefined
  const flags = e.flags | (active ? FLAG.ACTIVE : 0)
  const timer = active && e.flags & FLAG.USETIME ? Math.round((live?.timerSeconds ?? 0) * HZ) : 0
  return (
    `${right(hex(e.type, 1), 4)} ${right(hex(e.protocol, 1), 4)} ${hex(e.low, 4)}-${hex(e.high, 4)}/${hex(e.visible, 4)} ` +
    `${hex(e.hidden, 4)} ${hex(currentWhere(e, live), 8)} ${hex(live?.lastcontact ?? 0, 8)} ` +
    `${hex(e.ctlproto, 4)} ${hex(e.ctlport, 4)} ${right(String(timer), 6)} ${right(hex(flags, 1), 4)}\n`
  )
}

export const autofwProc = (slots: readonly AutofwSlot[], live: (id: number) => AutofwLive | undefined): string =>
  AUTOFW_PROC_HEADER + slots.map((s) => autofwProcLine(s, live(s.id))).join('')
