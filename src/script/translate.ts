// legacyfw translate: a script run in the sealed sandbox with its legacy
// commands served from memory, or a saved ruleset loaded by its restore
// command, turned into one nftables file and a report.
import { readFileSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import type { Interface } from '../runtime/interfaces.ts'
import { readInputFile } from '../runtime/input-file.ts'
import { SERVED_COMMANDS, OWNED_TABLES } from '../tools/registry.ts'
import { type Place, runScript } from './sandbox.ts'
import { readExit, readStubs, serve } from './serve.ts'
import { Session } from './session.ts'
import { type ScriptEnding, type Translation, exitIsEarly, translation, withReportLines } from './translation.ts'
import { changedSettings, missingKnobError, missingKnobNote, parseSnapshot, settingLine, sysctlFile, sysctlKey } from '../translate/era/sysctl.ts'

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
  /** The script was stopped at the time limit; the tables are what it had set up by then. */
  readonly timedOut: boolean
  /** The /etc/sysctl.d file of the kernel settings the script makes ('' when it makes none). */
  readonly sysctl: string
}

/** Why there is no translation at all. */
export type NoTranslation = { readonly failure: 'sandbox'; readonly detail: string } | { readonly failure: 'server-killed' }

const HEADER = ', translated by legacyfw: '

const fileText = (source: string, body: string): string =>
  body === ''
    ? `# ${source}${HEADER}it leaves no firewall rules.\n`
    : [
        `# ${source}${HEADER}the firewall the script leaves behind.`,
        '# `nft -f` this file (it replaces the tables below); the legacy tools list it as before.',
        '# Each rule ends with the line of the command that made it.',
        '',
        body,
      ].join('\n')

/** The file without the script's name in its first line (`--check` compares translations of renamed scripts). */
export const withoutSourceName = (file: string): string => file.replace(/^# .*?, translated by legacyfw: /, `#${HEADER}`)

// The shell names the sandbox's copy of the script in its messages: call it "script", as the report does.
const SANDBOX_SCRIPT = /\S*\/script-\d+-\d+-[^/\s]*\/script\b/g

/** Runs a script in the sandbox with its legacy commands served from memory. */
export const translateScript = async (script: string, options: TranslateOptions = {}): Promise<ScriptTranslation | NoTranslation> => {
  const run = await runScript(options.place ?? { fresh: true }, script, {
    args: options.args ?? [],
    serve: { commands: SERVED_COMMANDS },
    interfaces: options.interfaces ?? [],
    files: options.files ?? {},
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  })
  const result = run.result as (Translation & { tables: string }) | undefined
  if (!run.started) return { failure: 'sandbox', detail: run.stderr.split('\n').find((l) => l !== '') ?? `exit status ${run.status}` }
  if (!result) return { failure: 'server-killed' }
  const output = (run.stdout + run.stderr).replace(SANDBOX_SCRIPT, 'script')
  const file = fileText(basename(script), result.tables)
  const settings = scriptSettings(readInputFile(script).toString('latin1'), run.sysctl, output)
  return {
    nft: result.tables,
    report: withReportLines(result.report, settings.report),
    file,
    status: run.status,
    // bash's error for a missing knob is replaced by its divergence note, as in legacyfw run.
    output: output
      .split('\n')
      .filter((line) => !missingKnobError(line))
      .join('\n'),
    timedOut: run.timedOut,
    sysctl: settings.settings.length ? sysctlFile(basename(script), settings.settings) : '',
  }
}

/**
 * The kernel settings a script makes: those /proc/sys/net shows changed
 * after it (the sandbox's network, which started as the host's defaults),
 * each with the line that names it, and the 2.0/2.2 knobs this kernel lacks
 * (bash's error for the redirect in the script's output) as divergences.
 */
const scriptSettings = (
  text: string,
  snapshots: { before: string; after: string } | undefined,
  output: string,
): { settings: { key: string; value: string; line: number; where: string }[]; report: string[] } => {
  const changed = snapshots ? changedSettings(parseSnapshot(snapshots.before), parseSnapshot(snapshots.after)) : []
  // Only what the script names: the kernel changes other settings along (conf/IFACE/forwarding after ip_forward).
  const settings = changed.flatMap(([path, value]) => {
    const line = settingLine(text, path)
    return line === undefined ? [] : [{ key: sysctlKey(path), value, line, where: `script:${line}` }]
  })
  settings.sort((a, b) => a.line - b.line)
  const report = settings.map((s) => `${s.where}: sysctl: ${s.key} = ${s.value.replaceAll('\t', ' ')} (--sysctl-out FILE writes the settings)`)
  for (const line of output.split('\n')) {
    const missing = missingKnobError(line)
    if (missing) report.push(`${missing.file}:${missing.line}: divergence: ${missingKnobNote(missing.path)}`)
  }
  return { settings, report }
}

/** How the script in DIR ended: an `exit` of its own shell that was not its last command is named by its line. */
const scriptEnding = (dir: string, status: number, where: (raw: string) => string): ScriptEnding => {
  const exit = readExit(dir)
  if (exit === undefined) return { status }
  const shown = where(exit.where)
  const line = /^script:(\d+)$/.exec(shown)?.[1]
  const early = line === undefined || exitIsEarly(readFileSync(join(dir, 'script'), 'latin1'), Number(line))
  return early ? { status, earlyExit: shown } : { status }
}

/** `legacyfw serve DIR` (inside the sandbox): serves the script's commands, then writes DIR/result.json. */
export const serveTranslation = async (dir: string): Promise<number> => {
  const session = new Session()
  session.recordedModules = []
  const { status, lingering } = await serve(dir, session)
  const script = join(dir, 'script')
  const where = (raw: string): string => {
    const colon = raw.lastIndexOf(':')
    const file = raw.slice(0, colon)
    if (file === script) return `script:${raw.slice(colon + 1)}`
    return colon < 0 || file.startsWith(`${dir}/`) || file === '?' || file === 'main' ? '?' : raw
  }
  const t = translation(session, where, [...readStubs(dir), ...session.recordedModules], lingering, scriptEnding(dir, status, where))
  writeFileSync(join(dir, 'result.json'), JSON.stringify({ status, tables: t.nft, report: t.report }))
  return 0
}

/** The saved formats `--from` knows. */
export const SAVED_FORMATS: readonly string[] = OWNED_TABLES.flatMap((t) => Object.keys(t.saved))

/** `--from FORMAT FILE`: the saved ruleset loaded by its restore command, in memory. */
export const translateSaved = async (format: string, file: string): Promise<ScriptTranslation> => {
  const owned = OWNED_TABLES.find((t) => Object.hasOwn(t.saved, format))
  const saved = owned?.saved[format]
  if (!owned || !saved) throw new Error(`unknown saved format ${format}`)
  const text = readInputFile(file).toString('utf8')
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
  return { ...t, file: fileText(basename(file), t.nft), status: reply.status, output: reply.stdout + reply.stderr, timedOut: false, sysctl: '' }
}
