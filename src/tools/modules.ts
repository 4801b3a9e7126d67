// modprobe, insmod and rmmod under `legacyfw run`: a firewall module
// (translate/era/modules.ts) needs no loading, since legacyfw provides
// ipchains, ipfwadm and masquerading on nftables and the netfilter modules
// modern kernels have are built in or load on demand, so the call succeeds
// silently where the real tool would say "module not found". Other modules
// are left to the real tool, as at boot. (translate records every module
// command instead: serve.ts stubs.)
import { type FirewallModule, firewallModule, moduleWords } from '../translate/era/modules.ts'
import type { Sys } from '../runtime/sys.ts'
import { runRealCommand } from '../runtime/userland.ts'
import type { UserlandMain } from './era.ts'
import { print } from './output.ts'

/**
 * What a firewall module's loading does under legacyfw, by kind: nothing
 * yet. The masquerading helpers (ip_masq_ftp, ip_masq_irc, ...) are the
 * hook for the issue that gives them a function.
 */
export const MODULE_HOOKS: Readonly<Record<FirewallModule, (module: string, sys: Sys) => void>> = {
  firewall: () => {},
  'masq-helper': () => {},
}

type ModuleTool = 'modprobe' | 'insmod' | 'rmmod'

/** Runs the real tool (never a legacyfw stand-in) and passes its output on; without it, as the shell would have said. */
const realTool = (tool: string, args: readonly string[], sys: Sys): number =>
  print(sys, runRealCommand(tool, args) ?? { stdout: '', stderr: `${sys.program}: command not found\n`, status: 127 })

const moduleMain =
  (tool: ModuleTool): UserlandMain =>
  async (args, sys) => {
    const { modules, rest } = moduleWords(tool, args)
    const kinds = modules.map(firewallModule)
    if (modules.length === 0 || kinds.every((k) => k === undefined)) return realTool(tool, args, sys)
    // Loading runs the hooks; unloading has nothing of legacyfw's to unload.
    const removing = tool === 'rmmod' || rest.some((w) => /^-[a-zA-Z]*r/.test(w) || w === '--remove')
    if (!removing)
      modules.forEach((m, i) => {
        const kind = kinds[i]
        if (kind !== undefined) MODULE_HOOKS[kind](m, sys)
      })
    const others = modules.filter((_, i) => kinds[i] === undefined)
    // Only -a/-r and rmmod name several modules; the others still go to the real tool.
    return others.length === 0 ? 0 : realTool(tool, [...rest, ...others], sys)
  }

export const MODULE_COMMANDS: Readonly<Record<ModuleTool, UserlandMain>> = {
  modprobe: moduleMain('modprobe'),
  insmod: moduleMain('insmod'),
  rmmod: moduleMain('rmmod'),
}
