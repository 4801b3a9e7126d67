// ipautofw (2.0), and the autofw module of ipmasqadm (2.2): parse (pure),
// then one kernel transaction on the tool's own table.
import { applyAutofw } from '../translate/ipautofw/kernel.ts'
import { setsockoptFailed, socketFailed } from '../translate/ipautofw/messages.ts'
import { parseAutofw } from '../translate/ipautofw/parse.ts'
import { AUTOFW_TABLE } from '../translate/ipautofw/render.ts'
import { MASQADM_TABLE } from '../translate/ipmasqadm/state.ts'
import { generationOf } from '../translate/nft/transaction.ts'
import type { Sys } from '../runtime/sys.ts'
import { withDoctorHint } from './output.ts'
import { type MasqWorld, autofwLive, changeTable, guarded, socketErrno } from './masq-table.ts'

/** The autofw program, as ipautofw (2.0) or as `ipmasqadm autofw` (2.2). */
export const autofwRun = (args: readonly string[], sys: Sys, world: MasqWorld, kernel: '2.0' | '2.2'): number => {
  const req = parseAutofw(args)
  sys.out(req.stdout)
  const table = kernel === '2.0' ? AUTOFW_TABLE : MASQADM_TABLE
  try {
    const errno = changeTable(world, table, (s, k) => {
      // Ids must not clash with a loaded entry's (the generation restarts when its element expires or a file is loaded).
      const r = applyAutofw(req.command, req.entry, s.autofw, autofwLive(k), Math.max(generationOf(k) ?? 0, ...s.autofw.map((a) => a.id)) + 1)
      return { state: { ...s, autofw: r.slots }, errno: r.errno }
    })
    // 2.2 ip_masq_uctl() took the module's positive errno for success (docs/decisions.md).
    if (errno && kernel === '2.0') {
      sys.err(setsockoptFailed(errno))
      return 1
    }
    return 0
  } catch (e) {
    const errno = socketErrno(e)
    if (errno === undefined) throw e
    sys.err(withDoctorHint(socketFailed(errno), e))
    return 1
  }
}

export const ipautofwMain = (args: readonly string[], sys: Sys, world: MasqWorld): Promise<number> =>
  guarded(sys, () => autofwRun(args, sys, world, '2.0'))
