// What modprobe, insmod and rmmod said about the helper modules, by era:
// modutils (2.0-2.4: ip_masq_*, ip_conntrack_*, ip_nat_*) and
// module-init-tools (2.6: nf_*). The spec gives none of these; they follow
// those tools' sources (docs/decisions.md, "helper modules").
import { type ParameterError, RECORD_MAX } from './model.ts'

const modern = (module: string): boolean => module.startsWith('nf_')

/** The module's file as the era's tools named it. */
export const modulePath = (module: string): string =>
  module.startsWith('ip_masq_')
    ? `/lib/modules/2.2.26/ipv4/${module}.o`
    : modern(module)
      ? `/lib/modules/2.6.39/kernel/net/netfilter/${module}.ko`
      : `/lib/modules/2.4.37/kernel/net/ipv4/netfilter/${module}.o`

const parameterText = (e: ParameterError): string =>
  e.kind === 'too-long'
    ? `parameters too long for legacyfw's record (${RECORD_MAX} bytes): ${e.parameter}`
    : e.kind === 'unknown'
      ? `invalid parameter parm_${e.parameter}`
      : e.kind === 'too-many'
        ? `too many values for ${e.parameter} (max ${e.max ?? 1})`
        : `invalid argument syntax for ${e.parameter}`

/** insmod or modprobe refusing a parameter. */
export const badParameter = (tool: 'insmod' | 'modprobe', module: string, e: ParameterError): string => {
  const path = modulePath(module)
  if (modern(module))
    return tool === 'insmod'
      ? `insmod: error inserting '${path}': -1 Unknown symbol in module\n`
      : `FATAL: Error inserting ${module} (${path}): Unknown symbol in module, or unknown parameter (see dmesg)\n`
  const line = `${path}: ${parameterText(e)}\n`
  return tool === 'insmod' ? line : `${line}${path}: insmod ${path} failed\n${path}: insmod ${module} failed\n`
}

/** insmod of a module that is loaded already (modprobe says nothing). */
export const alreadyLoaded = (module: string): string =>
  modern(module) ? `insmod: error inserting '${modulePath(module)}': -1 File exists\n` : `insmod: a module named ${module} already exists\n`

/** rmmod of a module that is not loaded (modprobe -r says nothing). */
export const notLoaded = (module: string): string =>
  modern(module) ? `ERROR: Module ${module} does not exist in /proc/modules\n` : `rmmod: module ${module} is not loaded\n`
