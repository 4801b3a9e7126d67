// legacyfw: the project's own command (modern options, yargs-parser).
//
//   legacyfw demo                          the bundled 2.2 rc.firewall in a lab
//   legacyfw translate [options] SCRIPT    run a script in a sandbox, print nft
//   legacyfw run SCRIPT [ARGS]             run a script, apply its firewall once
//   legacyfw proc NAME                     an old /proc/net file (src/cli/proc.ts)
//   legacyfw serve DIR                     (internal) the resident server of translate
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import yargsParser from 'yargs-parser'
import { type Interface, readInterfaceAddresses } from '../runtime/interfaces.ts'
import { projectPath } from '../runtime/project.ts'
import type { Io } from '../runtime/sys.ts'
import { type Place, runScript } from '../script/sandbox.ts'
import { readStubs, serve } from '../script/serve.ts'
import { Session } from '../script/session.ts'
import { lineDiff } from '../script/diff.ts'
import { LEGACY_COMMANDS, OWNED_TABLES } from '../tools/registry.ts'
import { procMain } from './proc.ts'
import { runMain } from '../script/run.ts'
import { type Translation, translation } from '../script/translation.ts'

const USAGE = `usage: legacyfw demo
       legacyfw translate [--iface NAME=ADDR/LEN]... [--no-mirror] [--file PATH=FILE]...
                          [--check EXPECTED.nft] SCRIPT [ARGS...]
       legacyfw translate --from ipchains-save FILE [--check EXPECTED.nft]
       legacyfw run SCRIPT [ARGS...]
       legacyfw proc [--kernel 2.0|2.2] NAME

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
             --from ipchains-save FILE  translate a saved ruleset instead
             --check EXPECTED.nft   exit 1 with a diff if the output differs
  run        run SCRIPT with every legacy command served by this one process,
             exactly as the live commands behave, and apply the firewall it
             leaves behind in one transaction when it ends (also when it fails)
  proc       print an old /proc/net file of the masquerading code in its
             original format, read from the kernel: ip_autofw, ip_masq/autofw,
             ip_masq/portfw, ip_masq/mfw, ip_masquerade
`

export const EXAMPLE = projectPath('examples', 'rc.firewall-2.2-strong.sh')

const IFACE = /^([^\s=/]{1,15})=(\d{1,3}(?:\.\d{1,3}){3}\/\d{1,2})$/

/** --iface entries replace the host's addresses of the interfaces they name. */
export const sandboxInterfaces = (mirror: readonly Interface[], overrides: readonly Interface[]): Interface[] => [
  ...mirror.filter((m) => !overrides.some((o) => o.name === m.name)),
  ...overrides,
]

export interface TranslateOptions {
  readonly args?: readonly string[]
  readonly interfaces?: readonly Interface[]
  readonly files?: Readonly<Record<string, string>>
  readonly place?: Place
  readonly timeoutMs?: number
}

export interface ScriptTranslation extends Translation {
  /** The nft file: header and tables. */
  readonly file: string
  /** The script's exit status (null if it did not end normally). */
  readonly status: number | null
  /** What the script itself wrote (stdout, then stderr). */
  readonly output: string
}

const fileText = (source: string, body: string): string =>
  body === ''
    ? `# ${source}, translated by legacyfw: it leaves no firewall rules.\n`
    : [
        `# ${source}, translated by legacyfw: the firewall the script leaves behind.`,
        '# `nft -f` this file (it replaces the tables below); the legacy tools list it as before.',
        '# Each rule ends with the line of the command that made it.',
        '',
        body,
      ].join('\n')

/** Runs a script in the sandbox with its legacy commands served from memory; undefined if the sandbox could not start. */
export const translateScript = async (script: string, options: TranslateOptions = {}): Promise<ScriptTranslation | undefined> => {
  const run = await runScript(options.place ?? { fresh: true }, script, {
    args: options.args ?? [],
    serve: { commands: LEGACY_COMMANDS },
    interfaces: options.interfaces ?? [],
    files: options.files ?? {},
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  })
  const result = run.result as (Translation & { tables: string }) | undefined
  if (!run.started || !result) return undefined
  // The shell names the sandbox's copy of the script in its messages: call it "script", as the report does.
  const output = (run.stdout + run.stderr).replace(/\S*\/lfw-script-[^/\s]*\/script\b/g, 'script')
  return { nft: result.tables, report: result.report, file: fileText(basename(script), result.tables), status: run.status, output }
}

/** `legacyfw serve DIR`: serves the script's commands, then writes DIR/result.json. */
const serveMain = async (dir: string): Promise<number> => {
  const session = new Session()
  const { status, lingering } = await serve(dir, session)
  const script = join(dir, 'script')
  const where = (raw: string): string => {
    const colon = raw.lastIndexOf(':')
    const file = raw.slice(0, colon)
    if (file === script) return `script:${raw.slice(colon + 1)}`
    return colon < 0 || file.startsWith(`${dir}/`) || file === '?' || file === 'main' ? '?' : raw
  }
  const t = translation(session, where, readStubs(dir), lingering)
  writeFileSync(join(dir, 'result.json'), JSON.stringify({ status, tables: t.nft, report: t.report }))
  return 0
}

/** `--from FORMAT FILE`: the saved ruleset loaded by its restore command, in memory. */
const translateSaved = async (format: string, file: string): Promise<ScriptTranslation | string> => {
  const owned = OWNED_TABLES.find((t) => Object.hasOwn(t.saved, format))
  const saved = owned?.saved[format]
  if (!owned || !saved)
    return `legacyfw translate: unknown saved format ${format} (known: ${OWNED_TABLES.flatMap((t) => Object.keys(t.saved)).join(', ')})`
  if (!existsSync(file)) return `legacyfw translate: ${file}: no such file`
  const text = readFileSync(file, 'utf8')
  const session = new Session()
  const reply = await session.call(
    { pid: process.pid, command: saved.command, as: saved.command, where: '?', stdinIsTty: false, args: saved.args },
    text,
  )
  const origins = session.originsOf(owned)
  origins.rules.clear()
  origins.chains.clear()
  const table = session.changed().find(([t]) => t === owned)?.[1]
  if (table) for (const [counter, line] of saved.ruleLines(text, table)) origins.rules.set(counter, `script:${line}`)
  const t = translation(session, (raw) => raw)
  return { ...t, file: fileText(basename(file), t.nft), status: reply.status, output: reply.stdout + reply.stderr }
}

const translateMain = async (argv: readonly string[], io: Io): Promise<number> => {
  const o = yargsParser([...argv], {
    configuration: { 'halt-at-non-option': true, 'greedy-arrays': false },
    array: ['iface', 'file'],
    string: ['iface', 'file', 'from', 'check'],
    boolean: ['mirror'],
    default: { mirror: true },
  })
  const [script, ...args] = o._.map(String)
  const ifaces = ((o['iface'] as string[] | undefined) ?? []).map((spec) => IFACE.exec(spec))
  const files = ((o['file'] as string[] | undefined) ?? []).map((spec) => /^(\/[^=]+)=(.+)$/.exec(spec))
  const from = o['from'] as string | undefined
  const operandsOk = script !== undefined && (from === undefined || args.length === 0)
  if (ifaces.some((m) => !m) || files.some((m) => !m) || !operandsOk) {
    io.err(USAGE)
    return 2
  }
  let t: ScriptTranslation | string | undefined
  if (from !== undefined) t = await translateSaved(from, script as string)
  else {
    const overrides = ifaces.map((m) => ({ name: (m as RegExpExecArray)[1] as string, cidr: (m as RegExpExecArray)[2] as string }))
    t = await translateScript(script as string, {
      args,
      interfaces: sandboxInterfaces(o['mirror'] ? readInterfaceAddresses() : [], overrides),
      files: Object.fromEntries(files.map((m) => [(m as RegExpExecArray)[1], (m as RegExpExecArray)[2]])),
    })
  }
  if (typeof t === 'string') {
    io.err(`${t}\n`)
    return 1
  }
  if (!t) {
    io.err('legacyfw: could not set up the sandbox (needs root, or unprivileged user namespaces)\n')
    return 1
  }
  if (t.output) io.err(t.output)
  for (const line of t.report) io.err(`${line}\n`)
  io.out(t.file)
  const check = o['check'] as string | undefined
  if (check !== undefined) {
    const expected = existsSync(check) ? readFileSync(check, 'utf8') : ''
    if (expected === t.file) return 0
    io.err(`legacyfw translate: the translation differs from ${check}:\n${lineDiff(expected, t.file)}`)
    return 1
  }
  return t.status ?? 1
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
      if (rest[0] === undefined) break
      return runMain(rest[0], rest.slice(1), io)
    case 'proc':
      return procMain(rest, io)
    case 'serve':
      if (rest[0] === undefined) break
      return serveMain(rest[0])
    default:
      io.err(`legacyfw: unknown command "${command}"\n`)
  }
  io.err(USAGE)
  return 2
}
