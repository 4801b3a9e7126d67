// Golden fixture cases: fixtures/<tool>/<case>.sh holds commands (one per
// line, shell quoting, no expansion); <case>.out is the transcript they
// produce and <case>.nft the owned table they leave behind.
//
// Transcript: "$ <command>", then stdout verbatim, then stderr lines
// prefixed "2> ", then "[exit N]" when N is not 0. Directives in the case
// file: "#! tty" runs the following commands with stdin on a terminal;
// "#! answers WORD..." gives them a controlling terminal at which those
// lines are typed ("#! answers" alone: no terminal, the default). A command
// ending in "<<WORD" reads the lines up to WORD as its stdin (a here-document,
// taken verbatim and shown in the transcript).
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'shell-quote'
import type { Test } from 'tap'
import { LEGACY_COMMANDS, commandTable } from '../../src/tools/registry.ts'

export const FIXTURES = new URL('../../fixtures/', import.meta.url).pathname

/** Every legacy command has its golden cases in fixtures/<command>/. */
export const GOLDEN_TOOLS = LEGACY_COMMANDS

/** Does the command act on a table of entries (ipautofw, ipmasqadm), whose cases golden-masqadm runs? */
export const actsOnEntries = (command: string): boolean => commandTable(command)?.initial.records !== undefined

export interface CaseCommand {
  readonly line: string
  readonly argv: string[]
  readonly tty: boolean
  readonly stdin?: string
  /** Lines typed at the controlling terminal; undefined: no terminal. */
  readonly ttyLines?: readonly string[]
}

export const caseNames = (tool: string): string[] =>
  readdirSync(join(FIXTURES, tool))
    .filter((f) => f.endsWith('.sh'))
    .map((f) => f.slice(0, -3))
    .sort()

export const readCase = (tool: string, name: string): CaseCommand[] => {
  let tty = false
  let ttyLines: string[] | undefined
  const commands: CaseCommand[] = []
  const lines = readFileSync(join(FIXTURES, tool, `${name}.sh`), 'utf8').split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim()
    if (line === '#! tty') tty = true
    if (line.startsWith('#! answers')) ttyLines = line === '#! answers' ? undefined : line.split(/\s+/).slice(2)
    if (line === '' || line.startsWith('#')) continue
    const heredoc = /^(.*?)\s*<<(\w+)$/.exec(line)
    const end = heredoc ? lines.indexOf(heredoc[2] ?? '', i + 1) : i
    if (end === -1) throw new Error(`${tool}/${name}: here-document not terminated: ${line}`)
    const stdin = lines
      .slice(i + 1, end)
      .map((l) => `${l}\n`)
      .join('')
    const argv = parse(heredoc?.[1] ?? line).map((w) => {
      if (typeof w !== 'string') throw new Error(`${tool}/${name}: only plain words are allowed: ${line}`)
      return w
    })
    const shown = heredoc ? `${line}\n${stdin}${heredoc[2]}` : line
    commands.push({ line: shown, argv, tty, ...(heredoc && { stdin }), ...(ttyLines && { ttyLines }) })
    i = end
  }
  return commands
}

const streamLines = (text: string, prefix: string): string => {
  if (text === '') return ''
  const lines = text.split('\n')
  const complete = text.endsWith('\n')
  if (complete) lines.pop()
  const body = lines.map((l) => (prefix && l === '' ? prefix.trimEnd() : prefix + l)).join('\n')
  return `${body}\n${complete ? '' : '\\ no newline at end\n'}`
}

export const transcriptEntry = (line: string, stdout: string, stderr: string, status: number): string =>
  `$ ${line}\n${streamLines(stdout, '')}${streamLines(stderr, '2> ')}${status ? `[exit ${status}]\n` : ''}`

/** Compares with the golden file, or writes it under `npm run snap`. */
export const expectFile = (t: Test, tool: string, file: string, actual: string): void => {
  const path = join(FIXTURES, tool, file)
  if (t.writeSnapshot) {
    writeFileSync(path, actual)
    t.pass(`wrote ${file}`)
    return
  }
  if (!existsSync(path)) {
    t.fail(`missing ${tool}/${file}: run \`npm run snap\` and review the diff`)
    return
  }
  t.equal(actual, readFileSync(path, 'utf8'), `${tool}/${file}`)
}

/** Every golden file must belong to a case (esbuild's orphan rule). */
export const orphans = (tool: string): string[] => {
  const cases = new Set(caseNames(tool))
  return readdirSync(join(FIXTURES, tool)).filter((f) => {
    const m = /^(.*)\.(out|nft)$/.exec(f)
    return m !== null && !cases.has(m[1] ?? '')
  })
}
