// ipmasqadm MODULE [opts] (ipmasqadm 0.4.2): parse (pure), then one kernel
// transaction on the tool's own table, or a listing read back from it.
import { resolveHosts } from '../translate/common/listnames.ts'
import { noSuchModule, setsockoptFailed, socketCreationFailed, usage } from '../translate/ipmasqadm/messages.ts'
import { applyMfw, parseMfw } from '../translate/ipmasqadm/mfw.ts'
import { applyPortfw, parsePortfw } from '../translate/ipmasqadm/portfw.ts'
import { mfwListing, mfwProc, portfwListing, portfwProc, procAddresses } from '../translate/ipmasqadm/proc.ts'
import { MASQADM_TABLE, decodeMasq } from '../translate/ipmasqadm/state.ts'
import type { Sys } from '../runtime/sys.ts'
import { autofwRun } from './ipautofw.ts'
import { type MasqWorld, changeTable, guarded, socketErrno } from './masq-table.ts'
import { print, withDoctorHint } from './output.ts'

/** Runs a module's kernel part; a kernel it cannot use ends it as the raw socket did. */
const withKernel = async (module: string, sys: Sys, body: () => Promise<number> | number): Promise<number> => {
  try {
    return await body()
  } catch (e) {
    const errno = socketErrno(e)
    if (errno === undefined) throw e
    sys.err(withDoctorHint(socketCreationFailed(module, errno), e))
    return 1
  }
}

const portfwRun = async (module: string, args: readonly string[], sys: Sys, world: MasqWorld): Promise<number> => {
  const req = await parsePortfw(module, args, sys.names())
  print(sys, { ...req.printed, status: 0 })
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
  print(sys, { ...req.printed, status: 0 })
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
      sys.err(setsockoptFailed(module, errno))
      return 255
    }
    return 0
  })
}

export const ipmasqadmMain = (args: readonly string[], sys: Sys, world: MasqWorld): Promise<number> =>
  guarded(sys, async () => {
    const [module, ...rest] = args
    if (module === undefined) {
      sys.err(usage(sys.program))
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
    sys.err(noSuchModule(module))
    return 1
  })
