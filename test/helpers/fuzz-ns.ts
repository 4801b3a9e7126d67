// The fuzz run of one tool, inside throwaway namespaces (test/fuzz.test.ts
// starts it under `unshare --net --pid --mount`; the fixture /etc files are
// mounted over the real ones): golden fixtures load rules into every owned
// table, then each vector runs through the tool's main in this process
// against the real kernel, and a sample through bin/. Prints JSON lines:
// {"at":N} before each vector (so a hang is pinned to it), {"finding":TEXT}
// for each problem, {"done":{...}} at the end.
//
//   fuzz-ns TOOL SEED FROM VECTORS BIN_VECTORS   (fuzz.test.ts runs it as one bundle)
//   in-process vectors FROM..VECTORS-1, then bin/ vectors VECTORS..VECTORS+BIN_VECTORS-1
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { readConntrack } from '../../src/runtime/conntrack.ts'
import { readForwarding } from '../../src/runtime/forwarding.ts'
import { MemoryStore } from '../../src/runtime/memory-store.ts'
import { type TableStore, nftTableStore } from '../../src/runtime/store.ts'
import type { Sys } from '../../src/runtime/sys.ts'
import { type OwnedTable, commandTable } from '../../src/tools/registry.ts'
import { decodeState } from '../../src/translate/ipchains/decode.ts'
import { isBuiltin } from '../../src/translate/ipchains/model.ts'
import { CMD, parseInvocation } from '../../src/translate/ipchains/parse.ts'
import type { KernelTable } from '../../src/translate/nft/kernel-table.ts'
import { DOCUMENTED_STATUS, FUZZ_TOOLS, type FuzzTool, type Vector, hasJsTrace, reproduction, vectorAt } from './fuzz.ts'
import { FIXTURES, readCase } from './golden.ts'
import { FIXTURE_ETC, fixtureNames } from './sys.ts'

const BIN = new URL('../../bin/', import.meta.url).pathname
const TIMEOUT_MS = 10_000
/** Successful vectors pile rules up: start again from the loaded fixtures this often. */
const RESET_EVERY = 100
/** In-process, every so many vectors the kernel is compared even if the command did not write. */
const AUDIT_EVERY = 10

/** Fixture cases whose commands load every owned table before the vectors run (lokkit first: it flushes and deletes chains). */
const SETUP: readonly [FuzzTool, string][] = [
  ['ipchains-restore', 'lokkit'],
  ['ipchains', 'basic-append-list'],
  ['ipchains', 'check-user-chains'],
  ['ipchains', 'masq-set'],
  ['ipchains', 'redirect'],
  ['ipfwadm', 'addresses'],
  ['ipfwadm', 'accounting'],
  ['ipfwadm', 'masquerade'],
  ['ipfwadm', 'redirect'],
  ['ipautofw', 'readme-recipes'],
  ['ipmasqadm', 'portfw-basic'],
  ['ipmasqadm', 'mfw-basic'],
  ['ipmasqadm', 'driver-and-autofw'],
]

interface Ran {
  readonly status: number | 'threw' | 'timed out'
  readonly stdout: string
  readonly stderr: string
}

const NAMES = fixtureNames()

const readText = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/** A Sys that captures the streams, reads the real /proc, has the fixture /etc files and no terminal. */
const fuzzSys = (program: string, stdin: string): Sys & { stdout: () => string; stderr: () => string } => {
  let stdout = ''
  let stderr = ''
  return {
    program,
    out: (text) => (stdout += text),
    err: (text) => (stderr += text),
    stdinIsTty: () => false,
    readStdin: () => stdin,
    readTtyLine: () => undefined,
    readFile: readText,
    names: () => NAMES,
    stdout: () => stdout,
    stderr: () => stderr,
  }
}

const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T | 'timed out'> => {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timed out'>((resolve) => (timer = setTimeout(() => resolve('timed out'), ms)))
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** The store methods that can change the kernel (everything else only reads it). */
const WRITES: readonly PropertyKey[] = ['commit', 'addOnly', 'resetCounters']

/** Called before a command first writes to the kernel, with what it last read (the table the write starts from). */
type BeforeWrite = (lastRead: unknown) => void

/** `store`, calling `beforeWrite` once, before the first call that can change the kernel. */
const watchedStore = <S extends object>(store: S, beforeWrite: BeforeWrite): S => {
  let written = false
  let lastRead: unknown
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop)
      if (typeof value !== 'function') return value
      const method = value as (...a: unknown[]) => unknown
      if (prop === 'read') return () => (lastRead = method.apply(target, []))
      if (!WRITES.includes(prop)) return value
      return (...args: unknown[]) => {
        if (!written) beforeWrite(lastRead)
        written = true
        return method.apply(target, args)
      }
    },
  })
}

/**
 * Runs the tool's main as its bin/ entry would, against `store` or the
 * kernel's own table; `beforeWrite` runs before its first write to the kernel.
 */
const runMain = async (tool: FuzzTool, vector: Vector, store?: TableStore, beforeWrite: BeforeWrite = () => {}): Promise<Ran> => {
  const owned = commandTable(tool)
  if (!owned) throw new Error(`${tool} is not in the registry`)
  const sys = fuzzSys(tool, vector.stdin)
  const call = async (): Promise<number> => {
    const main = owned.commands[tool] as NonNullable<(typeof owned.commands)[string]>
    return main(vector.argv, sys, {
      store: store ?? watchedStore(nftTableStore('ip', owned.name), beforeWrite),
      conntrack: readConntrack,
      forwarding: readForwarding,
    })
  }
  let status: Ran['status']
  try {
    status = await withTimeout(call(), TIMEOUT_MS)
  } catch (e) {
    return { status: 'threw', stdout: sys.stdout(), stderr: `${sys.stderr()}${e instanceof Error ? e.stack : String(e)}` }
  }
  return { status, stdout: sys.stdout(), stderr: sys.stderr() }
}

/** Runs bin/<tool> in a session of its own (no terminal to prompt at). */
const runBin = (tool: FuzzTool, vector: Vector): Ran => {
  const env = { ...process.env }
  delete env['NODE_OPTIONS']
  const r = spawnSync('setsid', ['-w', join(BIN, tool), ...vector.argv], {
    input: vector.stdin,
    encoding: 'utf8',
    timeout: TIMEOUT_MS,
    env,
    maxBuffer: 64 << 20,
  })
  const status = r.error ? (/ETIMEDOUT/.test(String(r.error)) ? 'timed out' : 'threw') : (r.status ?? 'threw')
  return { status, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}${r.signal ? `killed by ${r.signal}` : ''}` }
}

/** The namespace's whole ruleset; generation elements' remaining time is not state. */
const ruleset = (): string => spawnSync('nft', ['list', 'ruleset'], { encoding: 'utf8' }).stdout.replace(/ expires [0-9hms]+/g, '')

const withoutTable = (text: string, table: string): string => text.replace(new RegExp(`^table ip ${table} \\{\\n[\\s\\S]*?^\\}\\n`, 'm'), '')

const IPCHAINS = commandTable('ipchains') as OwnedTable

/** The ipchains table as the kernel holds it now. */
const chainsTable = (): KernelTable | undefined => nftTableStore('ip', IPCHAINS.name).read()

/** The targets of a saved line's -j that name chains (ipchains-restore creates them before running it). */
const jumpedChains = (line: string): string[] => {
  const words = line.split(/[ \t]+/).filter((w) => w !== '')
  const builtin = ['RETURN', 'REJECT', 'DENY', 'ACCEPT', 'MASQ', 'REDIRECT']
  return words.flatMap((w, i) =>
    w === '-j' && words[i + 1] !== undefined && !builtin.includes(words[i + 1] as string) ? [words[i + 1] as string] : [],
  )
}

const canonical = (table: KernelTable | undefined): string => (table ? JSON.stringify(IPCHAINS.canonical(table).table) : 'no table')

const seeded = (table: KernelTable | undefined): MemoryStore => {
  const store = new MemoryStore()
  if (table) store.seed(IPCHAINS.rendered(table), table)
  return store
}

/**
 * What a failed ipchains-restore may leave: the original ran the file line
 * by line through ipchains and stopped at the first failure, so the lines
 * before it stay done, and so do the chains the failing line jumps to (made
 * with -N before it ran). Computed in memory from the table before the run;
 * returns why the kernel differs, or undefined when it does not.
 */
const restoreDivergence = async (
  vector: Vector,
  before: KernelTable | undefined,
  rulesetBefore: string,
  rulesetAfter: string,
): Promise<string | undefined> => {
  if (withoutTable(rulesetBefore, IPCHAINS.name) !== withoutTable(rulesetAfter, IPCHAINS.name)) return 'changed a table other than its own'
  const lines = vector.stdin.split('\n')
  const restores = async (count: number): Promise<boolean> =>
    (await runMain('ipchains-restore', { ...vector, stdin: lines.slice(0, count).join('\n') }, seeded(before))).status === 0
  if (await restores(lines.length)) return 'failed where the same lines restored in memory succeed'
  // A restore stops at its first failure: the lines before it restore, any longer prefix fails.
  let done = 0
  for (let failing = lines.length; failing - done > 1;) {
    const mid = (done + failing) >> 1
    if (await restores(mid)) done = mid
    else failing = mid
  }
  const expected = seeded(before)
  await runMain('ipchains-restore', { ...vector, stdin: lines.slice(0, done).join('\n') }, expected)
  for (const chain of jumpedChains(lines[done] ?? '')) await runMain('ipchains', { argv: ['-N', chain], stdin: '' }, expected)
  return canonical(chainsTable()) === canonical(expected.read())
    ? undefined
    : `left the kernel other than the ${done} line(s) before the failing one would`
}

/** `ipchains -X` without a chain: 2.2 deleted every user chain it could, one by one, and failed for the others. */
const deletesAllChains = (argv: readonly string[]): boolean => {
  try {
    const inv = parseInvocation('ipchains', argv, (name) => NAMES.protoNumber(name))
    return inv.command === CMD.DELETE_CHAIN && inv.chain === undefined
  } catch {
    return false
  }
}

/** What a failed `ipchains -X` may leave: the chains `-X CHAIN` would delete gone (checked in memory), nothing else changed. */
const deleteAllDivergence = async (before: KernelTable | undefined, rulesetBefore: string, rulesetAfter: string): Promise<string | undefined> => {
  if (withoutTable(rulesetBefore, IPCHAINS.name) !== withoutTable(rulesetAfter, IPCHAINS.name)) return 'changed a table other than its own'
  const expected = seeded(before)
  for (const chain of decodeState(before).chains)
    if (!isBuiltin(chain.name)) await runMain('ipchains', { argv: ['-X', chain.name], stdin: '' }, expected)
  return canonical(chainsTable()) === canonical(expected.read()) ? undefined : 'left the kernel other than deleting each chain -X CHAIN deletes'
}

/** Why a failed command's change to the kernel is not what the original did too, or undefined when it is. */
const failedChangeDivergence = (tool: FuzzTool, vector: Vector, before: Snapshot, after: string): Promise<string | undefined> | string => {
  if (tool === 'ipchains-restore') return restoreDivergence(vector, before.chains, before.ruleset, after)
  if (tool === 'ipchains' && deletesAllChains(vector.argv)) return deleteAllDivergence(before.chains, before.ruleset, after)
  return 'changed the kernel'
}

const loadFixtures = async (): Promise<void> => {
  for (const [tool, name] of SETUP)
    for (const command of readCase(tool, name))
      if ((FUZZ_TOOLS as readonly string[]).includes(command.argv[0] ?? ''))
        await runMain(command.argv[0] as FuzzTool, { argv: command.argv.slice(1), stdin: command.stdin ?? '' })
}

let loaded: string | undefined

/** The fixtures' rules: run once, then their ruleset put back in one transaction (as `nft -f` of a saved ruleset, which the tools support). */
const resetRules = async (): Promise<void> => {
  if (loaded === undefined) {
    await loadFixtures()
    loaded = spawnSync('nft', ['list', 'ruleset'], { encoding: 'utf8' }).stdout
    return
  }
  const r = spawnSync('nft', ['-f', '-'], { input: `flush ruleset\n${loaded}`, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`cannot load the fixtures' ruleset again: ${r.stderr}`)
}

const emit = (record: object): void => {
  process.stdout.write(`${JSON.stringify(record)}\n`)
}

interface Snapshot {
  readonly ruleset: string
  /** The ipchains table, for the checks of ipchains-restore and ipchains -X. */
  readonly chains: KernelTable | undefined
}

/**
 * Runs the vectors; `run` is in-process or through bin/, and calls its
 * second argument before the command first writes to the kernel. The kernel
 * is compared after a failed command that wrote to it, and after every
 * `auditEvery`-th failed command whether or not it wrote (which checks that
 * only those writes reach the kernel).
 */
const fuzz = async (
  tool: FuzzTool,
  seed: number,
  from: number,
  to: number,
  auditEvery: number,
  run: (v: Vector, beforeWrite: BeforeWrite) => Promise<Ran> | Ran,
  how: string,
): Promise<void> => {
  for (let i = from; i < to; i++) {
    // At multiples of RESET_EVERY, so vectors from the last one before a failure reproduce its state.
    if (i === from || i % RESET_EVERY === 0) await resetRules()
    emit({ at: i })
    const vector = vectorAt(tool, seed, i)
    let before: Snapshot | undefined
    const snapshot = (chains: () => unknown): void => {
      before ??= { ruleset: ruleset(), chains: tool.startsWith('ipchains') ? (chains() as KernelTable | undefined) : undefined }
    }
    if (i % auditEvery === 0) snapshot(chainsTable)
    const ran = await run(vector, (lastRead) => snapshot(() => lastRead))
    const problems: string[] = []
    if (typeof ran.status !== 'number') problems.push(ran.status)
    else if (!DOCUMENTED_STATUS[tool].includes(ran.status)) problems.push(`exit status ${ran.status}`)
    if (hasJsTrace(ran.stdout) || hasJsTrace(ran.stderr)) problems.push('JavaScript error in its output')
    if (ran.status !== 0 && before) {
      const after = ruleset()
      if (after !== before.ruleset) {
        const why = await failedChangeDivergence(tool, vector, before, after)
        if (why) problems.push(`failed (${ran.status}) and ${why}`)
      }
    }
    if (problems.length)
      emit({
        finding: `${how}: ${problems.join(', ')}\n${reproduction(tool, seed, i, i - (i % RESET_EVERY), vector)}\n--- stdout\n${ran.stdout.slice(0, 2000)}--- stderr\n${ran.stderr.slice(0, 4000)}`,
      })
  }
}

const main = async (): Promise<void> => {
  const [tool, seed, from, vectors, binVectors] = process.argv.slice(2).map((a, i) => (i === 0 ? a : Number(a))) as [
    string,
    number,
    number,
    number,
    number,
  ]
  if (!(FUZZ_TOOLS as readonly string[]).includes(tool)) throw new Error(`usage: fuzz-ns.ts TOOL SEED FROM VECTORS BIN_VECTORS (${tool})`)
  spawnSync('ip', ['link', 'set', 'lo', 'up'])
  // bin/ then resolves names as the in-process runs (and the restore check) do.
  for (const file of FIXTURE_ETC)
    if (spawnSync('mount', ['--bind', join(FIXTURES, 'etc', file), `/etc/${file}`]).status !== 0)
      throw new Error(`cannot mount the fixture /etc/${file}`)
  const started = Date.now()
  const t = tool as FuzzTool
  await fuzz(t, seed, from, vectors, AUDIT_EVERY, (v, beforeWrite) => runMain(t, v, undefined, beforeWrite), 'in-process')
  const inProcessMs = Date.now() - started
  // bin/ vectors continue the numbering, so each index names one vector.
  await fuzz(t, seed, vectors, vectors + binVectors, 1, (v) => runBin(t, v), `bin/${t}`)
  emit({ done: { inProcessMs, binMs: Date.now() - started - inProcessMs } })
}

await main()
