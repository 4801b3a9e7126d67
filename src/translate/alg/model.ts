// The masquerading application helpers ("apps") a script has loaded: one
// record per loaded module, as 2.0/2.2 (`ip_masq_ftp ports=21,2121`) and
// 2.4/2.6 (`ip_conntrack_ftp`, `nf_nat_ftp`, ...) scripts name them. Pure:
// which module a word names, its parameters and defaults, load and unload.
// What each app does on the packet path is its renderer's (apps.ts).
import { strtol } from '../common/cnum.ts'

/** The helpers, by the name 2.2 gave them (ip_masq_<app>). */
export type AppName = 'ftp' | 'irc' | 'sip' | 'cuseeme' | 'vdolive' | 'quake' | 'raudio'

/** A parameter that sets the app's binding; the others are host-wide or have no nftables form (divergence notes). */
export type BindingParameter = 'ports' | 'in_ports' | 'mark' | 'in_mark'

/** One loaded module. */
export interface LoadedApp {
  readonly app: AppName
  /** The module's name as the script used it (ip_masq_ftp, nf_conntrack_ftp, ...). */
  readonly module: string
  /** Outbound: masqueraded connections to these ports (none: the module binds no outbound port). */
  readonly ports: readonly number[]
  /** Inbound: port-forwarded connections to these ports of the firewall. */
  readonly inPorts: readonly number[]
  /** Masqueraded connections carrying this firewall mark (0: none). */
  readonly mark: number
  /** Port-forwarded connections carrying this firewall mark (0: none). */
  readonly inMark: number
  /** Parameters kept only as given: NAME=VALUE, in the order given. */
  readonly kept: readonly string[]
}

interface ModuleSpec {
  readonly app: AppName
  /** Default outbound ports ([] for a NAT half, which follows its conntrack half). */
  readonly ports: readonly number[]
  /** Most values `ports=` takes. */
  readonly maxPorts: number
  readonly parameters: readonly string[]
}

// 2.2 MAX_MASQ_APP_PORTS is 12; 2.4 ip_conntrack_* MAX_PORTS is 8; nf_conntrack_* 8.
const masq = (app: AppName, ports: readonly number[], parameters: readonly string[] = ['ports']): ModuleSpec => ({
  app,
  ports,
  maxPorts: 12,
  parameters,
})
const conntrack = (app: AppName, ports: readonly number[], parameters: readonly string[]): ModuleSpec => ({
  app,
  ports,
  maxPorts: 8,
  parameters: ['ports', ...parameters],
})
const nat = (app: AppName, parameters: readonly string[] = []): ModuleSpec => ({ app, ports: [], maxPorts: 8, parameters })

/** Every helper module legacyfw knows, by name. */
export const HELPER_MODULES: Readonly<Record<string, ModuleSpec>> = {
  // 2.0 / 2.2 (ip_masq_sip is this project's name for SIP, following the 2.2 convention)
  ip_masq_ftp: masq('ftp', [21], ['ports', 'in_ports', 'noport', 'mark', 'in_mark']),
  ip_masq_irc: masq('irc', [6667], ['ports', 'insecure']),
  ip_masq_sip: masq('sip', [5060], ['ports', 'in_ports', 'mark', 'in_mark']),
  ip_masq_cuseeme: masq('cuseeme', [7648]),
  ip_masq_vdolive: masq('vdolive', [7000]),
  ip_masq_quake: masq('quake', [26000, 27000]),
  ip_masq_raudio: masq('raudio', [554, 7070]),
  // 2.4
  ip_conntrack_ftp: conntrack('ftp', [21], []),
  ip_nat_ftp: { ...nat('ftp', ['ports']), ports: [21] },
  ip_conntrack_irc: conntrack('irc', [6667], ['max_dcc_channels', 'dcc_timeout']),
  ip_nat_irc: { ...nat('irc', ['ports']), ports: [6667] },
  ip_conntrack_sip: conntrack('sip', [5060], ['sip_timeout']),
  ip_nat_sip: nat('sip'),
  // 2.6
  nf_conntrack_ftp: conntrack('ftp', [21], ['loose']),
  nf_nat_ftp: nat('ftp'),
  nf_conntrack_irc: conntrack('irc', [6667], ['max_dcc_channels', 'dcc_timeout']),
  nf_nat_irc: nat('irc'),
  nf_conntrack_sip: conntrack('sip', [5060], ['sip_timeout', 'sip_direct_signalling', 'sip_direct_media', 'sip_external_media']),
  nf_nat_sip: nat('sip'),
}

/** The app a module name loads, or undefined for any other module. */
export const helperApp = (module: string): AppName | undefined => HELPER_MODULES[module]?.app

/** A parameter the module does not have, or a value it cannot take. */
export interface ParameterError {
  readonly kind: 'unknown' | 'syntax' | 'too-many' | 'too-long'
  readonly parameter: string
  readonly max?: number
}

const BINDING: Readonly<Record<BindingParameter, true>> = { ports: true, in_ports: true, mark: true, in_mark: true }

// An int array parameter as insmod read it: comma-separated C numbers (strtol, base 0).
const intList = (value: string): number[] | undefined => {
  const out: number[] = []
  for (const word of value.split(',')) {
    const { value: n, end } = strtol(word, 0)
    if (end === 0 || end !== word.length) return undefined
    out.push(n)
  }
  return out
}

// Ports 0 leave a slot unused (2.2 registered only the non-zero ones); a port is 16 bits.
const portsOf = (values: readonly number[]): number[] => [...new Set(values.map((v) => v & 0xffff).filter((p) => p !== 0))]

/** The module loaded with `params` (NAME=VALUE words), or the first parameter it refuses. */
export const loadApp = (module: string, params: readonly string[]): LoadedApp | ParameterError => {
  const spec = HELPER_MODULES[module]
  if (!spec) throw new Error(`not a helper module: ${module}`)
  let app: LoadedApp = { app: spec.app, module, ports: spec.ports, inPorts: [], mark: 0, inMark: 0, kept: [] }
  for (const word of params) {
    const eq = word.indexOf('=')
    const name = eq < 0 ? word : word.slice(0, eq)
    const value = eq < 0 ? '' : word.slice(eq + 1)
    if (!spec.parameters.includes(name)) return { kind: 'unknown', parameter: name }
    if (!Object.hasOwn(BINDING, name)) {
      // Kept in the record (an nft comment word): printable, no quote, short.
      if (!/^[!#-~]{0,32}$/.test(value)) return { kind: 'syntax', parameter: name }
      app = { ...app, kept: [...app.kept, `${name}=${value}`] }
      continue
    }
    const values = intList(value)
    if (values === undefined) return { kind: 'syntax', parameter: name }
    const many = name === 'ports' || name === 'in_ports'
    if (values.length > (many ? spec.maxPorts : 1)) return { kind: 'too-many', parameter: name, max: many ? spec.maxPorts : 1 }
    if (name === 'ports') app = { ...app, ports: portsOf(values) }
    else if (name === 'in_ports') app = { ...app, inPorts: portsOf(values) }
    else if (name === 'mark') app = { ...app, mark: (values[0] ?? 0) >>> 0 }
    else app = { ...app, inMark: (values[0] ?? 0) >>> 0 }
  }
  // The record is an nft comment: at most 128 bytes.
  return encodeApp(app).length > RECORD_MAX ? { kind: 'too-long', parameter: params.join(' ') } : app
}

export const RECORD_MAX = 128

export const isParameterError = (r: LoadedApp | ParameterError): r is ParameterError => 'kind' in r

// ---------------------------------------------------------------------------
// Records: "APP MODULE ports=P,.. [in_ports=P,..] [mark=N] [in_mark=N] [NAME=VALUE ...]"

export const encodeApp = (a: LoadedApp): string =>
  [
    a.app,
    a.module,
    `ports=${a.ports.join(',')}`,
    ...(a.inPorts.length ? [`in_ports=${a.inPorts.join(',')}`] : []),
    ...(a.mark ? [`mark=${a.mark}`] : []),
    ...(a.inMark ? [`in_mark=${a.inMark}`] : []),
    ...a.kept,
  ].join(' ')

const numbers = (text: string): number[] => (text === '' ? [] : text.split(',').map(Number))

/** The record's app, or undefined for a record this project did not write. */
export const decodeApp = (record: string): LoadedApp | undefined => {
  const [app, module, ...params] = record.split(' ')
  const spec = module === undefined ? undefined : HELPER_MODULES[module]
  if (!spec || spec.app !== app || module === undefined) return undefined
  let a: LoadedApp = { app: spec.app, module, ports: [], inPorts: [], mark: 0, inMark: 0, kept: [] }
  for (const word of params) {
    const [name = '', value = ''] = word.split(/=(.*)/s)
    if (name === 'ports') a = { ...a, ports: numbers(value) }
    else if (name === 'in_ports') a = { ...a, inPorts: numbers(value) }
    else if (name === 'mark') a = { ...a, mark: Number(value) }
    else if (name === 'in_mark') a = { ...a, inMark: Number(value) }
    else if (spec.parameters.includes(name)) a = { ...a, kept: [...a.kept, word] }
    else return undefined
  }
  const valid = [...a.ports, ...a.inPorts].every((p) => Number.isInteger(p) && p > 0 && p < 65536)
  return valid && Number.isInteger(a.mark) && Number.isInteger(a.inMark) ? a : undefined
}

// ---------------------------------------------------------------------------
// Loading and unloading: the loaded modules in load order (each once, as the kernel held them).

export const isLoaded = (apps: readonly LoadedApp[], module: string): boolean => apps.some((a) => a.module === module)

export const withLoaded = (apps: readonly LoadedApp[], app: LoadedApp): LoadedApp[] => [...apps.filter((a) => a.module !== app.module), app]

export const withoutModule = (apps: readonly LoadedApp[], module: string): LoadedApp[] => apps.filter((a) => a.module !== module)
