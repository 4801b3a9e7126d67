// Seeded argv fuzzing of every legacy tool, against the real kernel in a
// throwaway network namespace with rules loaded: no JavaScript error or
// stack trace, no hang, only documented exit statuses, and a command that
// exits non-zero never changes the kernel (ipchains-restore: beyond what the
// lines before its failing one did). Most vectors run through the tool's
// main in the namespaced process; a sample runs through bin/.
//
//   LEGACYFW_FUZZ_VECTORS   in-process vectors per tool (default 2000)
//   LEGACYFW_FUZZ_FROM      first in-process vector (default 0; a failure says where to start to reproduce it)
//   LEGACYFW_FUZZ_BIN       bin/ vectors per tool (default 40: each costs a Node start, and npm test has ~3 minutes for this)
//   LEGACYFW_FUZZ_SEED      seed (default fixed); a failure prints it with the vector
//   LEGACYFW_FUZZ_TOOLS     comma-separated subset of the tools
import t from 'tap'
import { build } from 'esbuild'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'
import { FUZZ_TOOLS, type FuzzTool } from './helpers/fuzz.ts'
import { requireRootAndNft } from './helpers/netns.ts'

const VECTORS = Number(process.env['LEGACYFW_FUZZ_VECTORS'] ?? 2000)
const FROM = Number(process.env['LEGACYFW_FUZZ_FROM'] ?? 0)
const BIN_VECTORS = Number(process.env['LEGACYFW_FUZZ_BIN'] ?? 40)
const SEED = Number(process.env['LEGACYFW_FUZZ_SEED'] ?? 14061999)
const TOOLS = (process.env['LEGACYFW_FUZZ_TOOLS']?.split(',') ?? FUZZ_TOOLS).filter((x): x is FuzzTool =>
  (FUZZ_TOOLS as readonly string[]).includes(x),
)
/** A vector that prints nothing for this long is hung (a synchronous loop would not let its own timeout fire). */
const SILENCE_MS = 30_000
/** Two tools at a time: the machine has two cores. */
const PARALLEL = 2
const RUNNER = new URL('helpers/fuzz-ns.ts', import.meta.url).pathname

interface ToolRun {
  readonly findings: string[]
  readonly done: { inProcessMs: number; binMs: number } | undefined
  readonly exit: string
}

/**
 * The runner as one ES module (Node starts it in a fraction of the time the
 * TypeScript loader takes); import.meta.url stays the source's, for the
 * fixture paths.
 */
const bundleRunner = async (dir: string): Promise<string> => {
  const outfile = join(dir, 'fuzz-ns.mjs')
  const url = pathToFileURL(RUNNER).href
  await build({
    entryPoints: [RUNNER],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    define: { 'import.meta.url': JSON.stringify(url) },
    sourcemap: 'inline',
    logLevel: 'warning',
  })
  return outfile
}

/** Runs one tool's vectors in new network, PID and mount namespaces (everything it starts or mounts goes with them). */
const fuzzTool = (runner: string, tool: FuzzTool): Promise<ToolRun> =>
  new Promise((resolve) => {
    const env = { ...process.env }
    delete env['NODE_OPTIONS']
    const argv = [
      '--net',
      '--pid',
      '--mount',
      '--fork',
      '--kill-child',
      process.execPath,
      '--enable-source-maps',
      runner,
      tool,
      String(SEED),
      String(FROM),
      String(VECTORS),
      String(BIN_VECTORS),
    ]
    const child = spawn('unshare', argv, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    const findings: string[] = []
    let done: ToolRun['done']
    let at = -1
    let stderr = ''
    let silent: NodeJS.Timeout
    const watch = (): void => {
      clearTimeout(silent)
      silent = setTimeout(() => {
        findings.push(`vector #${at} hung (nothing for ${SILENCE_MS / 1000} s); LEGACYFW_FUZZ_SEED=${SEED}`)
        child.kill('SIGKILL')
      }, SILENCE_MS)
    }
    watch()
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    createInterface({ input: child.stdout }).on('line', (line) => {
      watch()
      const record = JSON.parse(line) as { at?: number; finding?: string; done?: ToolRun['done'] }
      if (record.at !== undefined) at = record.at
      if (record.finding !== undefined) findings.push(record.finding)
      if (record.done !== undefined) done = record.done
    })
    child.on('close', (code, signal) => {
      clearTimeout(silent)
      resolve({ findings, done, exit: `${code ?? signal}${stderr ? `\n${stderr.slice(-4000)}` : ''}` })
    })
  })

/** Runs the tools `PARALLEL` at a time, the longest (ipchains-restore) first; each promise settles when its tool is done. */
const startRuns = (runner: string, tools: readonly FuzzTool[]): Map<FuzzTool, Promise<ToolRun>> => {
  const settle = new Map<FuzzTool, (run: ToolRun) => void>()
  const runs = new Map(tools.map((tool) => [tool, new Promise<ToolRun>((resolve) => settle.set(tool, resolve))]))
  const queue = [...tools].sort((a, b) => Number(b === 'ipchains-restore') - Number(a === 'ipchains-restore'))
  const lane = async (): Promise<void> => {
    for (let tool = queue.shift(); tool !== undefined; tool = queue.shift()) settle.get(tool)?.(await fuzzTool(runner, tool))
  }
  for (let i = 0; i < PARALLEL; i++) void lane()
  return runs
}

const missing = requireRootAndNft()
if (missing) t.fail(missing)
else {
  const dir = mkdtempSync(join(tmpdir(), 'lfw-fuzz-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const runs = startRuns(await bundleRunner(dir), TOOLS)
  for (const tool of TOOLS)
    t.test(`fuzz ${tool}: ${VECTORS - FROM} vectors in-process and ${BIN_VECTORS} through bin/ (seed ${SEED})`, async (t) => {
      const run = await (runs.get(tool) as Promise<ToolRun>)
      t.ok(run.done, `the run finished (exit ${run.exit})`)
      t.same(run.findings, [], 'no crash, hang, undocumented status, or failed command that changed the kernel')
      if (run.done) t.comment(`${tool}: in-process ${run.done.inProcessMs} ms, bin/ ${run.done.binMs} ms`)
    })
}
