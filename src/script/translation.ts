// What `legacyfw translate` prints once a script has run in its session:
// the nftables file of the tables it left behind (stdout), and the report
// of everything that did not carry over as it stands (stderr), each item
// with the script line it concerns.
import { annotatedTableText } from '../translate/nft/annotated.ts'
import { LINGER_SECONDS } from './serve.ts'
import type { Session } from './session.ts'

export interface Translation {
  /** The tables as nft text ('' when the script left none). */
  readonly nft: string
  readonly report: readonly string[]
}

export interface Recorded {
  readonly where: string
  readonly argv: readonly string[]
}

const commandLine = (argv: readonly string[]): string =>
  argv.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`)).join(' ')

const firstLine = (text: string): string => text.split('\n').find((l) => l.trim() !== '') ?? ''

/** Sort key of "FILE:LINE": the script's lines first, in order. */
const lineOf = (where: string): number => Number(where.slice(where.lastIndexOf(':') + 1)) || 0

/** How the script ended: its status, and where its own shell ran an `exit` that was not its last command. */
export interface ScriptEnding {
  readonly status: number
  readonly earlyExit?: string
}

/** A line that does something: not blank, a comment, closing words (fi, esac, done, ;;, }) or another exit. */
const substantive = (line: string): boolean =>
  line
    .replace(/(^|\s)#.*$/, '')
    .replace(/\b(fi|esac|done|exit(\s+\S+)?)\b|;;|[;})]/g, ' ')
    .trim() !== ''

/** Whether a line that does something follows line `line` (1-based) of the script. */
export const exitIsEarly = (scriptText: string, line: number): boolean => scriptText.split('\n').slice(line).some(substantive)

/** "script:3", "script:5" -> "script:3,5" (each file once, in order). */
const joinWheres = (wheres: readonly string[]): string => {
  const byFile = new Map<string, string[]>()
  for (const w of wheres) {
    const colon = w.lastIndexOf(':')
    const file = colon < 0 ? w : w.slice(0, colon)
    const lines = byFile.get(file) ?? []
    if (colon >= 0 && !lines.includes(w.slice(colon + 1))) lines.push(w.slice(colon + 1))
    byFile.set(file, lines)
  }
  return [...byFile].map(([file, lines]) => (lines.length ? `${file}:${lines.join(',')}` : file)).join(',')
}

/**
 * The translation of a session: the owned tables it changed as nft text, and
 * the report. `where` turns a call's "FILE:LINE" into what the user sees
 * ("script:12").
 */
export const translation = (
  session: Session,
  where: (raw: string) => string,
  stubs: readonly Recorded[] = [],
  lingering = false,
  ending?: ScriptEnding,
): Translation => {
  const tables = session.changed()
  const report: { where: string; text: string }[] = []
  for (const call of session.calls) {
    if (call.unsupported)
      report.push({ where: where(call.where), text: `unsupported: ${commandLine(call.argv)} (not run: no legacyfw ${call.argv[0]} yet)` })
    else if (call.status !== 0)
      report.push({ where: where(call.where), text: `error: ${commandLine(call.argv)} exited ${call.status}: ${firstLine(call.stderr)}` })
  }
  for (const stub of stubs) report.push({ where: where(stub.where), text: `recorded, not run: ${commandLine(stub.argv)}` })

  const files: string[] = []
  for (const [owned, table] of tables) {
    const { table: canonical, renamed } = owned.canonical(table)
    const origins = session.originsOf(owned)
    const rules = new Map<string, string>()
    // Counters keep their names unless renumbered; an origin of a rule that
    // is gone must not land on the rule that now has its old name.
    const newNames = new Set(renamed.values())
    for (const [counter, raw] of origins.rules) {
      const name = renamed.get(counter) ?? (newNames.has(counter) ? undefined : counter)
      if (name !== undefined) rules.set(name, where(raw))
    }
    const chains = new Map([...origins.chains].map(([chain, raw]) => [chain, where(raw)]))
    files.push(annotatedTableText(canonical, { rules, chains }))
    for (const [counter, notes] of owned.notes(table)) {
      const raw = origins.rules.get(counter)
      for (const note of notes) report.push({ where: raw === undefined ? '?' : where(raw), text: `divergence: ${note}` })
    }
  }
  // A divergence note is printed once, at its first line, naming every line it concerns.
  const sorted = report.map((r, i) => ({ ...r, i })).sort((a, b) => lineOf(a.where) - lineOf(b.where) || a.i - b.i)
  const noteLines = new Map<string, string[]>()
  for (const r of sorted) if (r.text.startsWith('divergence: ')) noteLines.set(r.text, [...(noteLines.get(r.text) ?? []), r.where])
  const seen = new Set<string>()
  const lines = sorted
    .map((r) => {
      const wheres = noteLines.get(r.text)
      if (wheres === undefined) return `${r.where}: ${r.text}`
      return r.where === wheres[0] ? `${joinWheres(wheres)}: ${r.text}` : ''
    })
    .filter((l) => l !== '' && !seen.has(l) && seen.add(l))
  if (lingering)
    lines.push(
      `script: processes it started in the background still ran when it ended; legacyfw served them until they ended (at most ${LINGER_SECONDS} s)`,
    )
  if (ending)
    lines.push(
      ending.earlyExit === undefined
        ? `script: the script ended with status ${ending.status}`
        : `${ending.earlyExit}: the script exited with status ${ending.status}`,
    )
  return { nft: files.join('\n'), report: lines }
}

/** How the script ended and that processes outlived it: the report's last lines. */
const trailer = (line: string): boolean => line.startsWith('script: ') || / the script exited with status \d+$/.test(line)
const lineKey = (line: string): number => Number(/^[^\s:]+:(\d+)/.exec(line)?.[1] ?? 0)

/** The report with more "FILE:LINE: ..." lines merged in line order (each after its line's), before the last lines. */
export const withReportLines = (report: readonly string[], extra: readonly string[]): string[] => {
  const body = report.filter((l) => !trailer(l)).map((l, i) => ({ l, i, key: lineKey(l) }))
  const lined = extra.filter((l) => !trailer(l)).map((l, i) => ({ l, i: body.length + i, key: lineKey(l) }))
  const merged = [...body, ...lined].sort((a, b) => a.key - b.key || a.i - b.i).map((x) => x.l)
  return [...merged, ...extra.filter(trailer), ...report.filter(trailer)]
}
