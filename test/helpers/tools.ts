// Running a legacy command in pure mode.
import { ipchainsMain } from '../../src/cli/ipchains.ts'
import { MemoryStore } from './memory-store.ts'
import { captureSys } from './sys.ts'

export interface PureWorld {
  readonly store: MemoryStore
  conntrack: string
}

export const pureWorld = (): PureWorld => ({ store: new MemoryStore(), conntrack: '' })

export interface Run {
  readonly stdout: string
  readonly stderr: string
  readonly status: number
}

export const runPure = async (world: PureWorld, argv: readonly string[], options: { tty?: boolean } = {}): Promise<Run> => {
  const [program, ...args] = argv
  const sys = captureSys(program ?? '', {
    stdinIsTty: options.tty ?? false,
    files: { '/proc/sys/net/ipv4/ip_forward': '0\n' },
  })
  let status: number
  switch (program) {
    case 'ipchains':
      status = await ipchainsMain(args, sys, { store: world.store, conntrack: () => world.conntrack })
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
