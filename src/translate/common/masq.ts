// Masqueraded connections, as the 2.0/2.2 /proc/net/ip_masquerade listed
// them, taken from the conntrack table (/proc/net/nf_conntrack or
// `conntrack -L` lines).

export interface MasqEntry {
  /** TCP, UDP or ICMP, as the kernel wrote it. */
  readonly proto: 'TCP' | 'UDP' | 'ICMP'
  /** Time left, in hundredths of a second. */
  readonly expires: number
  readonly src: number
  readonly sport: number
  readonly dst: number
  readonly dport: number
  /** The masquerade port (ICMP: the rewritten id). */
  readonly mport: number
  readonly initseq: number
  readonly delta: number
  readonly pdelta: number
}

export const MASQ_PORT_MIN = 61000
export const MASQ_PORT_MAX = 65095

const toAddr = (dotted: string | undefined): number | undefined => {
  const parts = (dotted ?? '').split('.').map(Number)
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined
  return parts.reduce((acc, p) => acc * 256 + p, 0)
}

type Tuple = Readonly<Record<string, string>>

/** The original and reply tuples of one conntrack line (each starts at src=). */
const tuplesOf = (fields: readonly string[]): Tuple[] => {
  const tuples: Record<string, string>[] = []
  for (const field of fields) {
    const [key, value] = field.split('=')
    if (value === undefined || key === undefined) continue
    if (key === 'src') tuples.push({})
    const current = tuples[tuples.length - 1]
    if (current && !(key in current)) current[key] = value
  }
  return tuples
}

/**
 * The masqueraded entries among conntrack lines: source-NATed TCP/UDP
 * connections mapped into the masquerading port range, and source-NATed
 * ICMP (listed, as 2.2 did, with the echo id as ports and the rewritten id
 * as the masquerade port). Lines look like
 * "ipv4 2 tcp 6 431999 ESTABLISHED src=... dst=... sport= dport= src= ...".
 */
export const masqEntriesFromConntrack = (text: string): MasqEntry[] =>
  text.split('\n').flatMap((line) => {
    const fields = line.trim().split(/\s+/)
    const at = fields[0] === 'ipv4' ? 2 : 0
    const proto = fields[at]
    const timeout = Number(fields[at + 2])
    if ((proto !== 'tcp' && proto !== 'udp' && proto !== 'icmp') || !Number.isInteger(timeout)) return []
    const [orig, reply] = tuplesOf(fields.slice(at + 3))
    const src = toAddr(orig?.['src'])
    const dst = toAddr(orig?.['dst'])
    if (!orig || !reply || src === undefined || dst === undefined || toAddr(reply['dst']) === src) return []
    const portKey = proto === 'icmp' ? 'id' : 'dport'
    const mport = Number(reply[portKey])
    if (proto !== 'icmp' && !(mport >= MASQ_PORT_MIN && mport <= MASQ_PORT_MAX)) return []
    return [
      {
        proto: proto === 'tcp' ? 'TCP' : proto === 'udp' ? 'UDP' : 'ICMP',
        expires: timeout * 100,
        src,
        sport: Number(orig[proto === 'icmp' ? 'id' : 'sport']),
        dst,
        dport: Number(orig[proto === 'icmp' ? 'id' : 'dport']),
        mport,
        initseq: 0,
        delta: 0,
        pdelta: 0,
      },
    ]
  })
