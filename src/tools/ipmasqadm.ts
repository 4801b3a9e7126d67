// ipmasqadm MODULE [opts] (ipmasqadm 0.4.2) and ipautofw (2.0): parse
// (pure), then one kernel transaction on the tool's own table, or a listing
// read back from it.
import { Exit } from '../translate/common/exit.ts'
import { dottedToAddr } from '../translate/common/inet.ts'
import { resolveHosts } from '../translate/common/listnames.ts'
import { applyAutofw } from '../translate/ipautofw/kernel.ts'
import { type AutofwLive } from '../translate/ipautofw/model.ts'
import { parseAutofw } from '../translate/ipautofw/parse.ts'
import { liveOf } from '../translate/ipautofw/render.ts'
import { type Errno as KernelErrno, strerror } from '../translate/ipmasqadm/messages.ts'
import { applyMfw, parseMfw } from '../translate/ipmasqadm/mfw.ts'
import { applyPortfw, parsePortfw } from '../translate/ipmasqadm/portfw.ts'
import { mfwListing, mfwProc, portfwListing, portfwProc, procAddresses } from '../translate/ipmasqadm/proc.ts'
import { type MasqState, AUTOFW_TABLE, MASQADM_TABLE, TABLE_COMMENT, decodeMasq, renderMasq } from '../translate/ipmasqadm/state.ts'
import { DecodeError } from '../translate/nft/kernel-table.ts'
import type { FwKernel } from '../translate/ipmasqadm/table.ts'
import { type FwStore, transactFw } from '../runtime/fwstore.ts'
import { NftMissing } from '../runtime/nft.ts'
import { CommitRejected, KernelUnavailable } from '../runtime/store.ts'
import type { Sys } from '../runtime/sys.ts'

export interface MasqWorld {
  readonly store: FwStore
}

/** ipmasqadm's compiled-in module directory (man page FILES). */
export const LIBDIR = '/usr/lib/ipmasqadm'

/** The kernel's answer to a module's setsockopt(). */
type Errno = KernelErrno | undefined

/** Live info learned by the packet path for autofw entries. */
export const autofwLive = (kernel: FwKernel | undefined): ((id: number) => AutofwLive | undefined) =>
  liveOf(kernel?.maps ?? new Map(), dottedToAddr)

/** Applies `change` to the table's state in one transaction; returns the kernel's errno. */
const changeTable = (world: MasqWorld, table: keyof typeof TABLE_COMMENT, change: (s: MasqState, k: FwKernel | undefined) => { state: MasqState; errno: Errno }): Errno =>
  transactFw(world.store, (current) => {
    const { state, errno } = change(decodeMasq(current), current)
    if (errno) return { result: errno }
    return { next: renderMasq(table, TABLE_COMMENT[table], state), result: undefined }
  })

const out = (sys: Sys, stdout: string, stderr: string): void => {
  if (stdout) sys.out(stdout)
  if (stderr) sys.err(stderr)
}

/** The autofw program, as ipautofw (2.0) or as `ipmasqadm autofw` (2.2). */
export const autofwRun = (args: readonly string[], sys: Sys, world: MasqWorld, kernel: '2.0' | '2.2'): number => {
  const req = parseAutofw(args)
  sys.out(req.stdout)
  const table = kernel === '2.0' ? AUTOFW_TABLE : MASQADM_TABLE
  try {
    const errno = changeTable(world, table, (s, k) => {
      // Ids must not clash with a loaded entry's (the generation restarts when its element expires or a file is loaded).
      const r = applyAutofw(req.command, req.entry, s.autofw, autofwLive(k), Math.max(k?.generation ?? 0, ...s.autofw.map((a) => a.id)) + 1)
      return { state: { ...s, autofw: r.slots }, errno: r.errno }
    })
    // 2.2 ip_masq_uctl() took the module's positive errno for success (docs/decisions.md).
    if (errno && kernel === '2.0') {
      sys.err(`ipautofw: setsockopt failed: ${strerror(errno)}\n`)
      return 1
    }
    return 0
  } catch (e) {
    if (e instanceof KernelUnavailable || e instanceof NftMissing) {
      sys.err(`socket(RAW): ${e instanceof KernelUnavailable && e.reason === 'permission' ? 'Operation not permitted' : 'Protocol not supported'}\n`)
      return 1
    }
    throw e
  }
}

const socketFailure = (module: string, e: KernelUnavailable | NftMissing): string =>
  `${module}: socket creation failed: ${e instanceof KernelUnavailable && e.reason === 'permission' ? 'Operation not permitted' : 'Protocol not supported'}\n`

/** Runs a module's kernel part; a kernel it cannot use ends it as the raw socket did. */
const withKernel = async (module: string, sys: Sys, body: () => Promise<number> | number): Promise<number> => {
  try {
    return await body()
  } catch (e) {
    if (e instanceof KernelUnavailable || e instanceof NftMissing) {
      sys.err(socketFailure(module, e))
      return 1
    }
    throw e
  }
}

const portfwRun = async (module: string, args: readonly string[], sys: Sys, world: MasqWorld): Promise<number> => {
  const req = await parsePortfw(module, args, sys.names())
  out(sys, req.printed.stdout, req.printed.stderr)
  return withKernel(module, sys, async () => {
    if (req.command === 'list') {
      const proc = portfwProc(decodeMasq(world.store.read()).portfw)
      const names = await resolveHosts(sys.names(), req.numeric ? [] : procAddresses(proc, [1, 4]))
      sys.out(portfwListing(proc, names, req.numeric))
      return 0
    }
    const command = req.command
    // Errors of the 2.2 portfw module never reach the user (docs/decisions.md).
    changeTable(world, MASQADM_TABLE, (s) => {
      const r = applyPortfw(command, req.entry, s.portfw)
      return { state: { ...s, portfw: r.table }, errno: r.errno }
    })
    return 0
  })
}

const mfwRun = async (module: string, args: readonly string[], sys: Sys, world: MasqWorld): Promise<number> => {
  const req = await parseMfw(module, args, sys.names())
  out(sys, req.printed.stdout, req.printed.stderr)
  return withKernel(module, sys, async () => {
    if (req.command === 'list') {
      const proc = mfwProc(decodeMasq(world.store.read()).mfw)
      const names = await resolveHosts(sys.names(), req.numeric ? [] : procAddresses(proc, [2]))
      sys.out(mfwListing(proc, names, req.numeric))
      return 0
    }
    const command = req.command
    const errno = changeTable(world, MASQADM_TABLE, (s) => {
      const r = applyMfw(command, req.mark, req.host, s.mfw)
      return { state: { ...s, mfw: r.marks }, errno: r.errno }
    })
    if (errno) {
      sys.err(`${module}: setsockopt failed: ${strerror(errno)}\n`)
      return 255
    }
    return 0
  })
}

const guarded = async (sys: Sys, run: () => Promise<number> | number): Promise<number> => {
  try {
    return await run()
  } catch (e) {
    if (e instanceof Exit) {
      out(sys, e.stdout, e.stderr)
      return e.status
    }
    if (e instanceof DecodeError || e instanceof CommitRejected) {
      sys.err(`${sys.program}: ${e instanceof CommitRejected ? e.reason : e.message}\n`)
      return 1
    }
    throw e
  }
}

export const ipmasqadmMain = (args: readonly string[], sys: Sys, world: MasqWorld): Promise<number> =>
  guarded(sys, async () => {
    const [module, ...rest] = args
    if (module === undefined) {
      sys.err(`usage: ${sys.program} MODULE [opts] \n`)
      return 1
    }
    switch (module) {
      case 'autofw':
        return autofwRun(rest, sys, world, '2.2')
      case 'portfw':
        return portfwRun(module, rest, sys, world)
      case 'mfw':
        return mfwRun(module, rest, sys, world)
    }
    sys.err(`dlopen(): ${LIBDIR}/${module}.so: cannot open shared object file: No such file or directory\n`)
    return 1
  })

export const ipautofwMain = (args: readonly string[], sys: Sys, world: MasqWorld): Promise<number> =>
  guarded(sys, () => autofwRun(args, sys, world, '2.0'))
