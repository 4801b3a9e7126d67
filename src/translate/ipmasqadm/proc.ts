// The 2.2 /proc/net/ip_masq/{portfw,mfw} files (every line padded to 63
// characters) and how the modules list them: the first line read only
// triggers the header, every other line is scanned and printed.
import { addrToDotted } from '../common/inet.ts'
import type { ListNames } from '../common/listnames.ts'
import { MFW_LISTING_HEADER, PORTFW_LISTING_HEADER } from './messages.ts'
import type { MfwMark } from './mfw.ts'
import type { PortfwTable } from './portfw.ts'

const hex8 = (n: number): string => n.toString(16).toUpperCase().padStart(8, '0')
const line63 = (text: string): string => `${text.padEnd(63)}\n`
const num = (n: number, width: number): string => String(n).padStart(width)

export const portfwProc = (t: PortfwTable): string =>
  line63('Prot LAddr    LPort > RAddr    RPort PrCnt  Pref') +
  [...t.udp, ...t.tcp]
    .map((e) =>
      line63(
        `${e.protocol === 6 ? 'TCP' : 'UDP'}  ${hex8(e.laddr)} ${num(e.lport, 5)} > ${hex8(e.raddr)} ${num(e.rport, 5)} ${num(e.prefCnt, 5)} ${num(e.pref, 5)}`,
      ),
    )
    .join('')

export const mfwProc = (marks: readonly MfwMark[]): string =>
  line63('FwMark > RAddr    RPort PrCnt  Pref') +
  marks
    .flatMap((m) =>
      m.hosts.map((h) => line63(`0x${m.mark.toString(16)} > ${hex8(h.raddr)} ${num(h.rport, 5)} ${num(h.prefCnt, 5)} ${num(h.pref, 5)}`)),
    )
    .join('')

const pad = (text: string, width: number): string => (width < 0 ? text.padEnd(-width) : text.padStart(width))

/** addr_to_name(): the host name unless -n, else dotted. */
const hostText = (addr: number, names: ListNames, numeric: boolean): string => (numeric ? undefined : names.host(addr)) ?? addrToDotted(addr)
/** serv_to_name(): the tcp service name (also for UDP entries) unless -n, else the number. */
const servText = (port: number, names: ListNames, numeric: boolean): string => (numeric ? undefined : names.service(port, 'tcp')) ?? String(port)

const dataLines = (proc: string): string[][] =>
  proc
    .split('\n')
    .slice(1)
    .filter((l) => l !== '')
    .map((l) => l.trim().split(/\s+/))

export const portfwListing = (proc: string, names: ListNames, numeric: boolean): string =>
  PORTFW_LISTING_HEADER +
  dataLines(proc)
    .map(
      ([p = '', la = '0', lp = '0', , ra = '0', rp = '0', cnt = '-1', pref = '-1']) =>
        [
          pad(p, -4),
          pad(hostText(Number.parseInt(la, 16), names, numeric), -20),
          pad(hostText(Number.parseInt(ra, 16), names, numeric), -20),
          pad(servText(Number(lp), names, numeric), 8),
          pad(servText(Number(rp), names, numeric), 8),
          pad(cnt, 5),
          pad(pref, 5),
        ].join(' ') + '\n',
    )
    .join('')

export const mfwListing = (proc: string, names: ListNames, numeric: boolean): string =>
  MFW_LISTING_HEADER +
  dataLines(proc)
    .map(
      ([mark = '0', , ra = '0', rp = '0', cnt = '-1', pref = '-1']) =>
        [
          pad(String(Number.parseInt(mark, 16) | 0), -8),
          pad(hostText(Number.parseInt(ra, 16), names, numeric), -20),
          pad(servText(Number(rp), names, numeric), 8),
          pad(cnt, 5),
          pad(pref, 5),
        ].join(' ') + '\n',
    )
    .join('')

/** The addresses a listing shows by name. */
export const procAddresses = (proc: string, columns: readonly number[]): number[] =>
  dataLines(proc).flatMap((fields) => columns.map((c) => Number.parseInt(fields[c] ?? '0', 16)))
