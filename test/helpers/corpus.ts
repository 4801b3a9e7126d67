// Running corpus scripts for the crash tests (test/corpus-*.test.ts): every
// corpus script of a tool with active commands (corpus MANIFEST, "Active fw
// commands" > 0) runs unchanged through bin/, each in a fresh network
// namespace, inside the sandboxed script runner. Legacy error messages and
// statuses are fine (the corpus keeps authentic bugs); a crash is not: a
// stack trace or "at file:line" on stderr, or a tool or the script ended by
// a signal.
import type { Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { deleteNetns, inNetns, newNetns } from './netns.ts'
import { type ScriptRun, runScriptText } from '../../src/script/sandbox.ts'
import { corpusPath } from './corpus-dir.mjs'

export const CORPUS = corpusPath()
/** Scripts run at the same time (each in its own namespace). */
const PARALLEL = 4

/** Files of CORPUS/<dir>/ the MANIFEST table lists with active commands. */
export const activeScripts = (dir: string): string[] => {
  const manifest = readFileSync(`${CORPUS}/MANIFEST.md`, 'utf8')
  const rows = [...manifest.matchAll(new RegExp(`^\\| *\\d+ *\\| *\`${dir}/([^\`/]+)\` *\\| *\\d+ *\\| *(\\d+) *\\|`, 'gm'))]
  return rows.filter((m) => Number(m[2]) > 0).map((m) => m[1] as string)
}

/** Interface names a script mentions; they become links in its namespace. */
const INTERFACE = /\b(?:eth|ppp|ippp|isdn|wlan|tr|cipcb|tun|tap|sl|plip|vpn|dsl|br)\d{1,2}\b/g

export const interfacesOf = (text: string): string[] => [...new Set(text.match(INTERFACE) ?? [])].sort()

/** Each named interface as one end of a veth pair (the kernel here has no dummy links), up, with an address. */
const createInterfaces = (ns: string, names: readonly string[]): void => {
  names.forEach((name, i) => {
    const steps = [
      ['ip', 'link', 'add', name, 'type', 'veth', 'peer', 'name', `lfwpeer${i}`],
      ['ip', 'addr', 'add', `10.${64 + i}.0.1/24`, 'dev', name],
      ['ip', 'link', 'set', name, 'up'],
      ['ip', 'link', 'set', `lfwpeer${i}`, 'up'],
    ]
    for (const argv of steps) {
      const r = inNetns(ns, argv)
      if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`)
    }
  })
}

/** start/stop init scripts get "start". */
export const argsOf = (text: string): string[] =>
  /case\s+"?\$\{?1\}?"?\s+in/.test(text) && /^\s*['"]?start['"]?\s*[|)]/m.test(text) ? ['start'] : []

// What a Node crash leaves on stderr: stack frames, internal module
// frames, an uncaught error's name line; or a fatal signal's message.
const STACK = [/^\s+at .*:\d+(?::\d+)?\)?$/m, /node:internal\//]
const TOOL_CRASH = [...STACK, /^\w*Error(?: \[\w+\])?: /m, /\bUncaught\b/, /Segmentation fault|Aborted|core dumped/]

export const crashes = (run: ScriptRun): string[] => {
  const found: string[] = []
  if (!run.started) found.push(`the sandbox did not start: ${run.stderr}`)
  if (run.timedOut) found.push('timed out')
  if (run.signal) found.push(`script ended by ${run.signal}`)
  if (run.status !== null && run.status >= 128) found.push(`script exit status ${run.status} (signal)`)
  for (const c of run.calls) if (c.status >= 128) found.push(`${c.argv.join(' ')}: exit status ${c.status} (signal)`)
  // The tools' own stderr (kept even where the script sent it to /dev/null),
  // then the script's, where other programs may print "Error: ..." legitimately.
  for (const re of TOOL_CRASH) if (re.test(run.toolStderr)) found.push(`tool stderr matches ${re}`)
  for (const re of STACK) if (re.test(run.stderr)) found.push(`script stderr matches ${re}`)
  return found
}

const parses = (path: string): boolean => spawnSync('bash', ['-n', path]).status === 0

export interface CorpusRun {
  /** Files some scripts read or run from the host, by script: path inside the sandbox -> host file. */
  readonly companions?: Record<string, Record<string, string>>
  /** Scripts that never reach a legacy command here, and why. */
  readonly noCalls?: Record<string, string>
}

/** One test per script of CORPUS/<dir>, the scripts running PARALLEL at a time. */
export const testCorpusScripts = (t: Test, dir: string, scripts: readonly string[], o: CorpusRun = {}): void => {
  const path = `${CORPUS}/${dir}`
  t.test(`the MANIFEST lists the corpus ${dir} scripts`, async (t) => {
    t.ok(scripts.length > 0, `${scripts.length} scripts with active commands`)
    const files = new Set(readdirSync(path))
    t.same(
      scripts.filter((s) => !files.has(s)),
      [],
      'every listed script exists',
    )
  })
  let running = 0
  const queue: (() => void)[] = []
  const slot = async (): Promise<void> => {
    if (running < PARALLEL) {
      running++
      return
    }
    await new Promise<void>((resolve) => queue.push(resolve))
  }
  const release = (): void => {
    const next = queue.shift()
    if (next) next()
    else running--
  }
  const start = async (file: string) => {
    const text = readFileSync(`${path}/${file}`, 'latin1')
    const ifaces = interfacesOf(text)
    const args = argsOf(text)
    await slot()
    const ns = newNetns('corpus')
    try {
      createInterfaces(ns, ifaces)
      const run = await runScriptText(ns, text, file, { args, timeoutMs: 150_000, files: o.companions?.[file] ?? {} })
      return { run, ifaces, args }
    } finally {
      deleteNetns(ns)
      release()
    }
  }
  const results = new Map(scripts.map((file) => [file, start(file)]))
  for (const result of results.values()) result.catch(() => undefined) // reported by the file's own test
  for (const file of scripts)
    t.test(file, async (t) => {
      const { run, ifaces, args } = await (results.get(file) as ReturnType<typeof start>)
      if (parses(`${path}/${file}`) && !o.noCalls?.[file]) t.ok(run.calls.length > 0, `it ran the legacy tools (${run.calls.length} commands)`)
      t.same(crashes(run), [], 'no crash', {
        args,
        interfaces: ifaces,
        status: run.status,
        calls: run.calls.length,
        failedCalls: run.calls.filter((c) => c.status !== 0).map((c) => `${c.status}: ${c.argv.join(' ')}`),
        toolStderr: run.toolStderr,
      })
    })
}
