// /proc/net/ip_masquerade as the 2.0 and 2.2 kernels wrote it
// (ip_msqhst_procinfo): a title line with the free masquerading ports per
// protocol (UDP, TCP, ICMP), then one line per entry, each padded to 127
// characters. 2.0 started each counter at 4096 ports, 2.2 at 4096 * 10
// (PORT_MASQ_MUL: one port served ten connections to different hosts).
// 2.0 counted every entry; 2.2 not those that asked for a specific port
// (forwarded connections, autofw -d: IP_MASQ_F_MPORT).
import { MASQ_PORT_MAX, MASQ_PORT_MIN, type MasqEntry } from './masq.ts'

export type MasqKernel = '2.0' | '2.2'

const PORTS = MASQ_PORT_MAX - MASQ_PORT_MIN + 1
const FREE_AT_START: Record<MasqKernel, number> = { '2.0': PORTS, '2.2': PORTS * 10 }
const PROTOCOLS = ['UDP', 'TCP', 'ICMP'] as const

const hex = (n: number, width: number): string => (n >>> 0).toString(16).toUpperCase().padStart(width, '0')
const line127 = (text: string): string => `${text.padEnd(127)}\n`

/** The free ports per protocol after the entries took theirs. */
export const freePorts = (entries: readonly MasqEntry[], kernel: MasqKernel): number[] =>
  PROTOCOLS.map((p) => FREE_AT_START[kernel] - entries.filter((e) => e.proto === p && (kernel === '2.0' || !e.specificPort)).length)

export const masqProcLine = (e: MasqEntry): string =>
  line127(
    `${e.proto} ${hex(e.src, 8)}:${hex(e.sport, 4)} ${hex(e.dst, 8)}:${hex(e.dport, 4)} ${hex(e.mport, 4)} ` +
      `${hex(e.initseq, 8)} ${String(e.delta).padStart(6)} ${String(e.pdelta).padStart(6)} ${String(e.expires).padStart(7)}`,
  )

export const masqProc = (entries: readonly MasqEntry[], kernel: MasqKernel): string =>
  line127(`Prc FromIP   FPrt ToIP     TPrt Masq Init-seq  Delta PDelta Expires (free=${freePorts(entries, kernel).join(',')})`) +
  entries.map(masqProcLine).join('')
