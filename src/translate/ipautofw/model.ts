// The autoforward table of Linux 2.0 (net/ipv4/ip_masq.c) and of the 2.2
// ip_masq_autofw module: struct ip_autofw, newest entry first.

export const TYPE = { RANGE: 1, PORT: 2, DIRECT: 3 } as const
export const FLAG = { ACTIVE: 1, USETIME: 2, SECURE: 4 } as const
export const IPPROTO_TCP = 6
export const IPPROTO_UDP = 17

/** What userspace hands the kernel (struct ip_autofw_user). */
export interface AutofwEntry {
  readonly type: number
  readonly protocol: number
  readonly low: number
  readonly high: number
  readonly visible: number
  readonly hidden: number
  /** Internal host, host order (from -h / -p; learned from the control port). */
  readonly where: number
  readonly ctlproto: number
  readonly ctlport: number
  readonly flags: number
}

/** An entry in the kernel: what was added, plus a name for its learned state. */
export interface AutofwSlot {
  /** Unique within the table's life: names the maps holding what the packet path learns. */
  readonly id: number
  readonly entry: AutofwEntry
}

/** What the packet path has learned for an entry (2.2 kept it in the entry itself). */
export interface AutofwLive {
  /** The internal host that last used the control port. */
  readonly where?: number
  /** The external host it sent that control packet to. */
  readonly lastcontact?: number
  /** Seconds left on the 15 s timer, when it runs. */
  readonly timerSeconds?: number
}

/** IP_AUTOFW_EXPIRE: 15 s after the last control-port packet. */
export const EXPIRE_SECONDS = 15

export const protoName = (p: number): string => (p === IPPROTO_TCP ? 'tcp' : 'udp')

/** The entry's current `where`: learned, else as added (SECURE entries forget it on expiry). */
export const currentWhere = (entry: AutofwEntry, live: AutofwLive | undefined): number => live?.where ?? entry.where

/** ip_autofw_del(): every field but the flags must be equal, `where` as it is now. */
export const sameEntry = (a: AutofwEntry, aWhere: number, b: AutofwEntry): boolean =>
  a.type === b.type &&
  a.low === b.low &&
  a.high === b.high &&
  a.hidden === b.hidden &&
  a.visible === b.visible &&
  a.protocol === b.protocol &&
  aWhere === b.where &&
  a.ctlproto === b.ctlproto &&
  a.ctlport === b.ctlport
