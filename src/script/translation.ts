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

/**
 * The translation of a session: the owned tables it changed as nft text, and
 * the report. `where` turns a call's "FILE:LINE" into what the user sees
 * ("script:12").
 */
export const translation = (session: Session, where: (raw: string) => string, stubs: readonly Recorded[] = [], lingering = false): Translation => {
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
  const seen = new Set<string>()
  const lines = report
    .map((r, i) => ({ ...r, i }))
    .sort((a, b) => lineOf(a.where) - lineOf(b.where) || a.i - b.i)
    .map((r) => `${r.where}: ${r.text}`)
    .filter((l) => !seen.has(l) && seen.add(l))
  if (lingering)
    lines.push(
      `script: processes it started in the background still ran when it ended; legacyfw served them until they ended (at most ${LINGER_SECONDS} s)`,
    )
  return { nft: files.join('\n'), report: lines }
}
