// modprobe, insmod and rmmod as a script (`legacyfw run`, `translate`) or
// a modprobe.d install/remove line (`legacyfw modprobe`) calls them:
// - a masquerading helper (ip_masq_ftp, ip_conntrack_ftp, nf_nat_sip, ...,
//   translate/alg) is loaded into or removed from the owned table
//   ip legacyfw_masqapp, with its parameters, as the era's tools did;
// - another firewall module (translate/era/modules.ts) needs no loading,
//   since legacyfw provides ipchains, ipfwadm and masquerading on nftables
//   and the netfilter modules modern kernels have are built in or load on
//   demand: the call succeeds silently;
// - any other module is the real tool's (run, as at boot), or recorded,
//   not run (translate: the host never changes).
import { type LoadedApp, helperApp, isLoaded, isParameterError, loadApp, withLoaded, withoutModule } from '../translate/alg/model.ts'
import { alreadyLoaded, badParameter, notLoaded } from '../translate/alg/messages.ts'
import { renderAlg } from '../translate/alg/apps.ts'
import { decodeAlg } from '../translate/alg/state.ts'
import { firewallModule, moduleName, moduleWords } from '../translate/era/modules.ts'
import { type TableStore, transact } from '../runtime/store.ts'
import type { Sys } from '../runtime/sys.ts'
import { runRealCommand } from '../runtime/userland.ts'
import { print } from './output.ts'

export type ModuleTool = 'modprobe' | 'insmod' | 'rmmod'

/** What a module command acts on: the helper table, and (translate) where calls for other modules are recorded. */
export interface ModuleWorld {
  readonly store: TableStore
  readonly recordModule?: (argv: readonly string[]) => void
  /** Called after a load leaving ip_masq_raudio loaded (its hellos need the runtime); absent in the sandbox. */
  readonly startRuntime?: () => void
}

export type ModuleMain = (args: readonly string[], sys: Sys, world: ModuleWorld) => Promise<number>

/** Runs the real tool (never a legacyfw stand-in) and passes its output on; without it, as the shell would have said. */
const realTool = (tool: string, args: readonly string[], sys: Sys): number =>
  print(sys, runRealCommand(tool, args) ?? { stdout: '', stderr: `${sys.program}: command not found\n`, status: 127 })

/** Applies a change to the loaded modules in one transaction; returns what the change says. */
const changeApps = <T>(store: TableStore, change: (apps: readonly LoadedApp[]) => { apps?: LoadedApp[]; result: T }): T =>
  transact(store, (current) => {
    const before = decodeAlg(current)
    const { apps, result } = change(before)
    return apps === undefined ? { result } : { next: renderAlg(apps), previous: () => renderAlg(before), result }
  })

/** Loads one helper module: modprobe of a loaded module does nothing, insmod refuses it. */
const loadHelper = (tool: 'modprobe' | 'insmod', module: string, params: readonly string[], sys: Sys, world: ModuleWorld): number =>
  print(
    sys,
    changeApps(world.store, (apps) => {
      if (isLoaded(apps, module)) return { result: tool === 'insmod' ? { stdout: '', stderr: alreadyLoaded(module), status: 1 } : ok }
      const app = loadApp(module, params)
      if (isParameterError(app)) return { result: { stdout: '', stderr: badParameter(tool, module, app), status: 1 } }
      return { apps: withLoaded(apps, app), result: ok }
    }),
  ) || startRuntimeFor(module, world)

/**
 * 0, after starting the runtime when `module` is one it serves; after a
 * removal too: a runtime that was down left its queueing rules, which the
 * one started removes before it ends (nothing needs it).
 */
const startRuntimeFor = (module: string, world: ModuleWorld): 0 => {
  if (helperApp(module) === 'raudio') world.startRuntime?.()
  return 0
}

/** Removes one helper module: rmmod of a module not loaded says so, modprobe -r does nothing. */
const removeHelper = (tool: ModuleTool, module: string, sys: Sys, world: ModuleWorld): number =>
  print(
    sys,
    changeApps(world.store, (apps) => {
      if (!isLoaded(apps, module)) return { result: tool === 'rmmod' ? { stdout: '', stderr: notLoaded(module), status: 1 } : ok }
      return { apps: withoutModule(apps, module), result: ok }
    }),
  ) || startRuntimeFor(module, world)

const ok = { stdout: '', stderr: '', status: 0 }

const isRemoval = (tool: ModuleTool, rest: readonly string[]): boolean =>
  tool === 'rmmod' || rest.some((w) => /^-[a-zA-Z]*r/.test(w) || w === '--remove')

const isHelper = (word: string): boolean => helperApp(moduleName(word)) !== undefined

// The rest of a call, for the modules legacyfw does not load: recorded
// (translate: the whole call when it names no helper), or, in run, the real
// tool's unless legacyfw provides them (a firewall module loads silently).
const notHelpers = (
  tool: ModuleTool,
  args: readonly string[],
  modules: readonly string[],
  rest: readonly string[],
  sys: Sys,
  world: ModuleWorld,
): number => {
  const left = modules.filter((m) => !isHelper(m))
  const argv = left.length === modules.length ? args : [...rest.filter((w) => w.startsWith('-')), ...left]
  if (world.recordModule) {
    if (left.length || modules.length === 0) world.recordModule([tool, ...argv])
    return 0
  }
  const others = left.filter((m) => firewallModule(m) === undefined)
  if (modules.length === 0 || others.length === modules.length) return realTool(tool, args, sys)
  // Only -a/-r and rmmod name several modules; the others still go to the real tool.
  return others.length ? realTool(tool, [...rest.filter((w) => w.startsWith('-')), ...others], sys) : 0
}

const moduleMain =
  (tool: ModuleTool): ModuleMain =>
  async (args, sys, world) => {
    const { modules, rest } = moduleWords(tool, args)
    const removing = isRemoval(tool, rest)
    // NAME=VALUE words are the parameters of the one module a load names (-a takes none).
    const params = modules.length === 1 ? rest.filter((w) => !w.startsWith('-') && w.includes('=')) : []
    let status = 0
    for (const name of modules.filter(isHelper).map(moduleName)) {
      const s = removing ? removeHelper(tool, name, sys, world) : loadHelper(tool === 'insmod' ? 'insmod' : 'modprobe', name, params, sys, world)
      status ||= s
    }
    const rested = notHelpers(tool, args, modules, rest, sys, world)
    return status || rested
  }

export const MODULE_COMMANDS: Readonly<Record<ModuleTool, ModuleMain>> = {
  modprobe: moduleMain('modprobe'),
  insmod: moduleMain('insmod'),
  rmmod: moduleMain('rmmod'),
}
