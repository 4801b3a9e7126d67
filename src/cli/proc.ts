// legacyfw proc NAME: the /proc/net files of the old masquerading code, in
// their original formats, from what the kernel holds now (scripts and
// admins used to `cat` them):
//   ip_autofw        2.0 autofw entries (ipautofw's table)
//   ip_masq/autofw   2.2 autofw entries (ipmasqadm's table)
//   ip_masq/portfw   2.2 portfw entries, rotation as far as it has got
//   ip_masq/mfw      2.2 mfw entries
//   ip_masq/app      2.2 masquerading helpers loaded (ip_masq_ftp, ...) and
//                    the connections bound to each
//   ip_masq_app      the same in 2.0's file
//   ip_masquerade    masqueraded connections, from conntrack; the 2.0
//                    format on a gateway masquerading with ipfwadm only,
//                    else 2.2 (--kernel 2.0|2.2 chooses)
import { type MasqForwarding, masqConnections, masqEntriesFromConntrack } from '../translate/common/masq.ts'
import { appProc } from '../translate/alg/proc.ts'
import { ALG_TABLE } from '../translate/alg/apps.ts'
import { decodeAlg } from '../translate/alg/state.ts'
import { type MasqKernel, masqProc } from '../translate/common/masq-proc.ts'
import { TABLE_NAME as IPFWADM_TABLE } from '../translate/ipfwadm/render.ts'
import { TABLE_NAME as IPCHAINS_TABLE } from '../translate/ipchains/render.ts'
import { autofwProc } from '../translate/ipautofw/proc.ts'
import { mfwProc, portfwProc } from '../translate/ipmasqadm/proc.ts'
import { MASQADM_TABLE, type MasqTable, decodeMasq } from '../translate/ipmasqadm/state.ts'
import { AUTOFW_TABLE } from '../translate/ipautofw/render.ts'
import { DecodeError, type KernelTable } from '../translate/nft/kernel-table.ts'
import { runNft } from '../runtime/nft.ts'
import { DOCTOR_HINT, missingRequirement } from '../tools/output.ts'
import { KernelUnavailable, nftTableStore } from '../runtime/store.ts'
import { readConntrack } from '../runtime/conntrack.ts'
import { readForwarding } from '../runtime/forwarding.ts'
import { autofwLive } from '../tools/masq-table.ts'

export interface ProcIo {
  readonly out: (text: string) => void
  readonly err: (text: string) => void
}

/** What the files are made from. */
export interface ProcWorld {
  /** An ipautofw/ipmasqadm or the helper table, undefined when absent; throws KernelUnavailable. */
  readonly read: (table: MasqTable | typeof ALG_TABLE) => KernelTable | undefined
  /** conntrack table lines, undefined when unreadable. */
  readonly conntrack: () => string | undefined
  /** What the ipautofw/ipmasqadm tables forward (their connections are masq entries too). */
  readonly forwarding: () => MasqForwarding
  /** The names of the kernel's ip tables. */
  readonly tables: () => readonly string[]
}

export const PROC_USAGE = `usage: legacyfw proc [--kernel 2.0|2.2] NAME
  NAME: ip_autofw, ip_masq/autofw, ip_masq/portfw, ip_masq/mfw, ip_masquerade,
        ip_masq/app, ip_masq_app
        (also as /proc/net/NAME)
`

/** 2.0 if only ipfwadm masquerades (an ipfwadm gateway ran a 2.0 kernel), else 2.2. */
export const masqKernelOf = (tables: readonly string[]): MasqKernel =>
  tables.includes(IPFWADM_TABLE) && !tables.includes(IPCHAINS_TABLE) ? '2.0' : '2.2'

/** A file that cannot be made, for a reason worth telling. */
class ProcProblem extends Error {}

type Reader = (world: ProcWorld, kernel: MasqKernel | undefined) => string

/** The conntrack table, or the reason it cannot be read. */
const conntrackOf = (w: ProcWorld): string => {
  const text = w.conntrack()
  if (text === undefined) throw new ProcProblem('cannot read the conntrack table (/proc/net/nf_conntrack or conntrack -L)')
  return text
}

const helpersFile =
  (kernel: MasqKernel): Reader =>
  (w) =>
    appProc(decodeAlg(w.read(ALG_TABLE)), masqConnections(conntrackOf(w), w.forwarding()), kernel)

const READERS: Record<string, Reader> = {
  ip_autofw: (w) => {
    const k = w.read(AUTOFW_TABLE)
    return autofwProc(decodeMasq(k).autofw, autofwLive(k))
  },
  'ip_masq/autofw': (w) => {
    const k = w.read(MASQADM_TABLE)
    return autofwProc(decodeMasq(k).autofw, autofwLive(k))
  },
  'ip_masq/portfw': (w) => portfwProc(decodeMasq(w.read(MASQADM_TABLE)).portfw),
  'ip_masq/mfw': (w) => mfwProc(decodeMasq(w.read(MASQADM_TABLE)).mfw),
  ip_masquerade: (w, kernel) => masqProc(masqEntriesFromConntrack(conntrackOf(w), w.forwarding()), kernel ?? masqKernelOf(w.tables())),
  'ip_masq/app': helpersFile('2.2'),
  ip_masq_app: helpersFile('2.0'),
}

const parseArgs = (args: readonly string[]): { name: string; kernel?: MasqKernel } | undefined => {
  const rest = [...args]
  let kernel: MasqKernel | undefined
  if (rest[0] === '--kernel') {
    const k = rest[1]
    if (k !== '2.0' && k !== '2.2') return undefined
    kernel = k
    rest.splice(0, 2)
  }
  const [given, ...extra] = rest
  if (given === undefined || extra.length) return undefined
  const name = given.replace(/^\/proc\/net\//, '')
  if (!Object.hasOwn(READERS, name) || (kernel !== undefined && name !== 'ip_masquerade')) return undefined
  return { name, ...(kernel ? { kernel } : {}) }
}

export const procMain = (args: readonly string[], io: ProcIo, world: ProcWorld = realProcWorld()): number => {
  const parsed = parseArgs(args)
  if (!parsed) {
    io.err(PROC_USAGE)
    return 2
  }
  try {
    io.out((READERS[parsed.name] as Reader)(world, parsed.kernel))
    return 0
  } catch (e) {
    const missing = missingRequirement(e)
    const why =
      missing !== undefined
        ? `${missing} (${DOCTOR_HINT})`
        : e instanceof KernelUnavailable
          ? 'reading nftables needs CAP_NET_ADMIN (Operation not permitted)'
          : e instanceof ProcProblem || e instanceof DecodeError
            ? e.message
            : undefined
    if (why === undefined) throw e
    io.err(`legacyfw proc: /proc/net/${parsed.name}: ${why}\n`)
    return 1
  }
}

export const realProcWorld = (): ProcWorld => ({
  read: (table) => nftTableStore('ip', table).read(),
  conntrack: readConntrack,
  forwarding: readForwarding,
  tables: () => {
    const r = runNft(['list', 'tables', 'ip'])
    return r.status === 0 ? [...r.stdout.matchAll(/^table ip (\S+)$/gm)].map((m) => m[1] as string) : []
  },
})
