// Running a legacy command in pure mode.
import { ipchainsMain } from '../../src/tools/ipchains.ts'
import { ipchainsRestoreMain } from '../../src/tools/ipchains-restore.ts'
import { ipchainsSaveMain } from '../../src/tools/ipchains-save.ts'
import { ipfwadmMain } from '../../src/tools/ipfwadm.ts'
import { MemoryStore } from './memory-store.ts'
import { captureSys } from './sys.ts'
import { type MasqForwarding, NO_FORWARDING } from '../../src/translate/common/masq.ts'

export interface PureWorld {
  readonly store: MemoryStore
  readonly fwadmStore: MemoryStore
  conntrack: string
  forwarding: MasqForwarding
}

export const pureWorld = (): PureWorld => ({ store: new MemoryStore(), fwadmStore: new MemoryStore(), conntrack: '', forwarding: NO_FORWARDING })

export interface Run {
  readonly stdout: string
  readonly stderr: string
  readonly status: number
}

export interface RunOptions {
  readonly tty?: boolean
  readonly stdin?: string
  readonly ttyLines?: readonly string[]
}

export const runPure = async (world: PureWorld, argv: readonly string[], options: RunOptions = {}): Promise<Run> => {
  const [program, ...args] = argv
  const sys = captureSys(program ?? '', {
    ...options,
    stdinIsTty: options.tty ?? false,
    files: { '/proc/sys/net/ipv4/ip_forward': '0\n' },
  })
  const chains = { store: world.store, conntrack: () => world.conntrack, forwarding: () => world.forwarding }
  // A fresh namespace, as the replayed cases see it: lo, up.
  const fwadm = {
    store: world.fwadmStore,
    conntrack: () => world.conntrack,
    forwarding: () => world.forwarding,
    interfaces: () => new Map([['lo', 0x7f000001]]),
  }
  let status: number
  switch (program) {
    case 'ipchains':
      status = await ipchainsMain(args, sys, chains)
      break
    case 'ipchains-save':
      status = await ipchainsSaveMain(args, sys, chains)
      break
    case 'ipfwadm':
      status = await ipfwadmMain(args, sys, fwadm)
      break
    case 'ipchains-restore':
      status = await ipchainsRestoreMain(args, sys, chains)
      break
    default:
      throw new Error(`no pure runner for ${program}`)
  }
  const text = (stream: 'out' | 'err'): string =>
    sys.chunks
      .filter((c) => c.stream === stream)
      .map((c) => c.text)
      .join('')
  return { stdout: text('out'), stderr: text('err'), status }
}
