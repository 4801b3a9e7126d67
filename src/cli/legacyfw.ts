// legacyfw: the project's own command (modern options, yargs-parser).
//
//   legacyfw demo                          the bundled 2.2 rc.firewall in a lab
//   legacyfw translate [options] SCRIPT    run a script in a sandbox, print nft
//   legacyfw run SCRIPT [ARGS]             run a script, apply its firewall once
//   legacyfw proc NAME                     an old /proc/net file (src/cli/proc.ts)
//   legacyfw install|uninstall [--root DIR] the 2.2 gateway's files (src/cli/install.ts)
//   legacyfw doctor                        what the host provides (src/cli/doctor.ts)
//   legacyfw modprobe [-r] MODULE [P=V]... load or remove a masquerading helper
//   legacyfw runtime [--syslog PATH]       the resident runtime, in the foreground
//   legacyfw serve DIR                     (internal) the resident server of translate
import { statSync, writeFileSync } from 'node:fs'
import yargsParser from 'yargs-parser'
import { type Interface, readInterfaceAddresses } from '../runtime/interfaces.ts'
import { projectPath } from '../runtime/project.ts'
import type { Io } from '../runtime/sys.ts'
import { InputError, readInputFile } from '../runtime/input-file.ts'
import {
  type NoTranslation,
  SAVED_FORMATS,
  type ScriptTranslation,
  serveTranslation,
  translateSaved,
  translateScript,
  withoutSourceName,
} from '../script/translate.ts'
import { lineDiff } from '../script/diff.ts'
import { procMain } from './proc.ts'
import { installMain } from './install.ts'
import { DOCTOR_HINT } from '../tools/output.ts'
import { doctorMain } from './doctor.ts'
import { kernelFailure, runMain } from '../script/run.ts'
import { MODULE_COMMANDS } from '../tools/modules.ts'
import { ALG } from '../tools/registry.ts'
import { nftTableStore } from '../runtime/store.ts'
import { realSys } from '../runtime/sys.ts'

const USAGE = `usage: legacyfw demo
       legacyfw translate [--iface NAME=ADDR/LEN]... [--no-mirror] [--file PATH=FILE]...
                          [--sysctl-out FILE] [--check EXPECTED.nft] SCRIPT [ARGS...]
       legacyfw translate --from ipchains-save FILE [--check EXPECTED.nft]
       legacyfw run SCRIPT [ARGS...]
       legacyfw proc [--kernel 2.0|2.2] NAME
       legacyfw install [--root DIR]
       legacyfw uninstall [--root DIR]
       legacyfw doctor
       legacyfw modprobe [-r] MODULE [PARAMETER=VALUE...]
       legacyfw runtime [--syslog PATH]

  demo       as root: build a throwaway lan/gw/wan network of namespaces, run
             the IP-Masquerade HOWTO's 2.2 rc.firewall in the gateway through
             ipchains, list it and send traffic through it; without root:
             translate that script
  translate  run SCRIPT unchanged in throwaway network and mount namespaces
             (the host never changes) and print the nftables file of the
             firewall it leaves behind; every error, unsupported command and
             divergence goes to stderr with its script line
             --iface NAME=ADDR/LEN  an interface the sandbox has (by default it
                                    mirrors the host's names and addresses)
             --no-mirror            only the --iface interfaces
             --file PATH=FILE       show FILE at PATH to the script (a config it
                                    sources, a script it runs)
             --sysctl-out FILE      write the kernel settings the script makes
                                    (/proc/sys) as an /etc/sysctl.d file
             --from ipchains-save FILE  translate a saved ruleset instead
             --check EXPECTED.nft   exit 1 with a diff if the output differs
  run        run SCRIPT with every legacy command served by this one process,
             exactly as the live commands behave, and apply the firewall it
             leaves behind in one transaction when it ends (also when it fails)
  proc       print an old /proc/net file of the masquerading code in its
             original format, read from the kernel: ip_autofw, ip_masq/autofw,
             ip_masq/portfw, ip_masq/mfw, ip_masquerade
  install    as root: the legacy commands in /sbin (/usr/sbin where /sbin
             links there), /usr/sbin/legacyfw, /etc/modprobe.d/legacyfw.conf
             for the masquerading helper modules, the systemd units
             legacyfw-boot.service (runs the script /etc/default/legacyfw
             names) and legacyfw-runtime.service, the man pages; refuses to
             replace a file that is not legacyfw's
             --root DIR             below DIR instead of / (as DESTDIR)
  uninstall  remove exactly what install laid down (its manifest,
             /var/lib/legacyfw/manifest); a file changed since is kept
  doctor     check, one line each, what legacyfw needs from the host (nft,
             nf_tables, conntrack, ct helpers, NFLOG, user namespaces,
             /dev/log, perl, iptables-nft, bash) and how to get what is missing;
             exit 1 when something required is missing
  modprobe   load (-r: remove) a masquerading helper module (ip_masq_ftp
             ports=21,2121, ip_conntrack_irc, nf_nat_sip, ...) into the
             kernel's helper table, as \`modprobe\` does in a served script; for
             modprobe.d: install ip_masq_ftp /usr/sbin/legacyfw modprobe
             ip_masq_ftp $CMDLINE_OPTS
  runtime    serve this network namespace in the foreground (what
             legacyfw-runtime.service runs; ipchains, ipfwadm and modprobe
             start it in the background when a logging rule appears or
             ip_masq_raudio is loaded): print each packet a -l/-o rule logs
             as Linux 2.2/2.0 did, to syslog (kern.info, tag kernel), and
             rewrite the RealAudio PNA hellos ip_masq_raudio queues, until
             stopped
             --syslog PATH          the syslog socket (default /dev/log)
`

export const EXAMPLE = projectPath('examples', 'rc.firewall-2.2-strong.sh')

const IFACE = /^([^\s=/]{1,15})=(\d{1,3}(?:\.\d{1,3}){3}\/\d{1,2})$/

/** --iface entries replace the host's addresses of the interfaces they name. */
export const sandboxInterfaces = (mirror: readonly Interface[], overrides: readonly Interface[]): Interface[] => [
  ...mirror.filter((m) => !overrides.some((o) => o.name === m.name)),
  ...overrides,
]

/** A bad command line or input: one line, exit status 2, nothing run. */
class UsageError extends Error {}

const parseIface = (spec: string): Interface => {
  const m = IFACE.exec(spec)
  const octets = m?.[2]?.split(/[./]/).map(Number) ?? []
  if (!m || octets.slice(0, 4).some((o) => o > 255) || (octets[4] ?? 33) > 32)
    throw new UsageError(`--iface ${spec}: NAME=ADDR/LEN expected, such as eth0=192.168.1.1/24`)
  return { name: m[1] as string, cidr: m[2] as string }
}

// A companion file is overlaid on a top-level directory the host has.
const parseFile = (spec: string): [string, string] => {
  const m = /^(\/([^/=]+)\/[^=]*[^/=])=(.+)$/.exec(spec)
  if (!m || (m[1] as string).split('/').includes('..') || !isDirectory(`/${m[2]}`))
    throw new UsageError(`--file ${spec}: PATH=FILE expected, PATH absolute and below an existing top-level directory`)
  readInputFile(m[3] as string)
  return [m[1] as string, m[3] as string]
}

const isDirectory = (path: string): boolean => statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false

const parseTimeout = (value: unknown): number => {
  const seconds = Number(value)
  if (value === undefined) return DEFAULT_TIMEOUT_SECONDS
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 86400)
    throw new UsageError(`--timeout ${String(value)}: a whole number of seconds from 1 to 86400 expected`)
  return seconds
}

/** How long a script may run in the sandbox unless --timeout says otherwise. */
const DEFAULT_TIMEOUT_SECONDS = 120

const translateMain = async (argv: readonly string[], io: Io): Promise<number> => {
  const o = yargsParser([...argv], {
    configuration: { 'halt-at-non-option': true, 'greedy-arrays': false, 'unknown-options-as-args': true },
    array: ['iface', 'file'],
    string: ['iface', 'file', 'from', 'check', 'timeout', 'sysctl-out'],
    boolean: ['mirror'],
    default: { mirror: true },
  })
  const [script, ...args] = o._.map(String)
  const from = o['from'] as string | undefined
  const check = o['check'] as string | undefined
  const misuse =
    script === undefined
      ? 'no SCRIPT given'
      : script.startsWith('-') && script !== '-'
        ? `unknown option ${script}`
        : from !== undefined && args.length > 0
          ? '--from takes one FILE and no arguments'
          : undefined
  if (script === undefined || misuse !== undefined) return misused(io, 'translate', misuse ?? 'no SCRIPT given')
  let expected: string | undefined
  let t: ScriptTranslation | NoTranslation
  let timeoutSeconds = DEFAULT_TIMEOUT_SECONDS
  try {
    timeoutSeconds = parseTimeout(o['timeout'])
    if (check !== undefined) expected = readInputFile(check).toString('utf8')
    if (from !== undefined && !SAVED_FORMATS.includes(from))
      throw new UsageError(`--from ${from}: unknown saved format (known: ${SAVED_FORMATS.join(', ')})`)
    if (from !== undefined) t = await translateSaved(from, script)
    else {
      readInputFile(script)
      const overrides = ((o['iface'] as string[] | undefined) ?? []).map(parseIface)
      const files = Object.fromEntries(((o['file'] as string[] | undefined) ?? []).map(parseFile))
      const interfaces = sandboxInterfaces(o['mirror'] ? readInterfaceAddresses() : [], overrides)
      t = await translateScript(script, { args, interfaces, files, timeoutMs: timeoutSeconds * 1000 })
    }
  } catch (e) {
    if (!(e instanceof UsageError || e instanceof InputError)) throw e
    io.err(`legacyfw translate: ${e.message}\n`)
    return 2
  }
  if ('failure' in t) {
    io.err(
      t.failure === 'sandbox'
        ? `legacyfw translate: could not set up the sandbox (${t.detail}); it needs root or unprivileged user namespaces, and util-linux (${DOCTOR_HINT})\n`
        : `legacyfw translate: ${script}: the script stopped legacyfw's server in the sandbox (it killed it), so nothing was translated\n`,
    )
    return 1
  }
  if (t.output) io.err(t.output)
  for (const line of t.report) io.err(`${line}\n`)
  io.out(t.file)
  const sysctlOut = o['sysctl-out'] as string | undefined
  if (sysctlOut !== undefined)
    try {
      writeFileSync(sysctlOut, t.sysctl === '' ? `# ${script}: the script makes no kernel settings.\n` : t.sysctl)
    } catch (e) {
      io.err(`legacyfw translate: --sysctl-out ${sysctlOut}: ${(e as Error).message}\n`)
      return 2
    }
  if (t.timedOut) {
    io.err(`legacyfw translate: ${script}: stopped after ${timeoutSeconds} s (--timeout); the tables above are what it had set up by then\n`)
    return 124
  }
  if (expected !== undefined) {
    if (withoutSourceName(expected) === withoutSourceName(t.file)) return 0
    io.err(`legacyfw translate: the translation differs from ${check}:\n${lineDiff(expected, t.file)}`)
    return 1
  }
  return t.status ?? 1
}

/** `legacyfw run`: the script must be a file bash can read. */
const runCommand = async (rest: readonly string[], io: Io): Promise<number> => {
  const [script, ...args] = rest
  if (script === undefined) return misused(io, 'run', 'no SCRIPT given')
  try {
    readInputFile(script)
  } catch (e) {
    if (!(e instanceof InputError)) throw e
    io.err(`legacyfw run: ${e.message}\n`)
    return 2
  }
  return runMain(script, args, io)
}

// The modprobe.d install/remove lines' entry point: the served modprobe, on the kernel's helper table.
const modprobeCommand = async (rest: readonly string[], io: Io): Promise<number> => {
  if (!rest.some((w) => !w.startsWith('-'))) return misused(io, 'modprobe', 'no MODULE given')
  const { startRuntime } = await import('../runtime/runtime.ts')
  try {
    return await MODULE_COMMANDS.modprobe(
      rest,
      { ...realSys('modprobe'), out: io.out, err: io.err },
      { store: nftTableStore(ALG.family, ALG.name), startRuntime },
    )
  } catch (e) {
    const why = kernelFailure(e)
    if (why === undefined) throw e
    io.err(`legacyfw modprobe: ${why}\n`)
    return 1
  }
}

// The runtime the tools start on demand, in the foreground (legacyfw-runtime.service).
const runtimeCommand = async (argv: readonly string[], io: Io): Promise<number> => {
  const [option, path, ...more] = argv
  if (option !== undefined && (option !== '--syslog' || path === undefined || more.length > 0))
    return misused(io, 'runtime', 'the only option is --syslog PATH')
  if (path !== undefined) process.env['LEGACYFW_SYSLOG'] = path
  const { runtimeForeground } = await import('../runtime/runtime.ts')
  return runtimeForeground()
}

const misused = (io: Io, command: string, why: string): number => {
  io.err(`legacyfw ${command}: ${why} (legacyfw --help tells more)\n`)
  return 2
}

export const legacyfwMain = async (argv: readonly string[], io: Io): Promise<number> => {
  const [command, ...rest] = argv
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io[command === undefined ? 'err' : 'out'](USAGE)
    return command === undefined ? 2 : 0
  }
  switch (command) {
    case 'demo': {
      if (process.getuid?.() !== 0) {
        io.err('legacyfw demo: not root, so no lab; translating the example instead.\n')
        return translateMain([EXAMPLE], io)
      }
      const { demo } = await import('./demo.ts')
      return demo(io)
    }
    case 'translate':
      return translateMain(rest, io)
    case 'run':
      return runCommand(rest, io)
    case 'proc':
      return procMain(rest, io)
    case 'install':
    case 'uninstall':
      return installMain(command, rest, io)
    case 'doctor':
      return doctorMain(rest, io)
    case 'modprobe':
      return modprobeCommand(rest, io)
    case 'runtime':
      return runtimeCommand(rest, io)
    case 'serve':
      if (rest[0] === undefined) return misused(io, 'serve', 'no DIR given')
      return serveTranslation(rest[0])
    default:
      io.err(`legacyfw: unknown command "${command}" (legacyfw --help tells more)\n`)
      return 2
  }
}
