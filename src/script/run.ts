// legacyfw run SCRIPT [ARGS...]: the script runs unchanged under bash, its
// legacy commands served by this one process from memory (starting from
// what the kernel holds), so each prints, fails and lists exactly as the
// live command would; when the script ends, however it ends, the firewall
// it left behind goes to the kernel in one transaction per owned table.
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CommitRejected, KernelUnavailable, nftTableStore, transact } from '../runtime/store.ts'
import { DOCTOR_HINT, missingRequirement } from '../tools/output.ts'
import { realCommand } from '../runtime/userland.ts'
import { generationOf } from '../translate/nft/transaction.ts'
import type { KernelTable } from '../translate/nft/kernel-table.ts'
import { makeRunDir } from '../runtime/rundir.ts'
import { LINGER_SECONDS, TREE_FD, openRequests, prepareServeDir, removeDir, scriptThenEnd, serve, shellWord } from './serve.ts'
import { missingKnobSed } from '../translate/era/sysctl.ts'
import { Session } from './session.ts'
import type { Io } from '../runtime/sys.ts'
import { startViaWatch } from '../runtime/via-watch.ts'
import { startRuntime } from '../runtime/runtime.ts'
import { SERVED_COMMANDS, OWNED_TABLES, type OwnedTable } from '../tools/registry.ts'

// The script under bash with the functions (BASH_ENV), then the end message.
// A run that was killed cannot remove its directory: the wrapper does.
// bash's message for a /proc/sys setting this kernel lacks becomes a
// divergence note on the way to stderr (sed, not holding the tree lock).
const wrapper = (dir: string): string => `${scriptThenEnd(
  dir,
  `BASH_ENV=${shellWord(join(dir, 'env.bash'))} bash "$@" 2> >(LC_ALL=C exec sed -u -E -f ${shellWord(join(dir, 'knobs.sed'))} >&2 ${TREE_FD}>&-)`,
)}kill -0 "$LFW_SERVER_PID" 2>/dev/null || rm -rf ${shellWord(dir)}
exit $rc
`

// Commits the table the script left. If another writer changed the table
// since the script started, the script's changes are made again on top of
// that writer's work (as a single command retries its compare-and-swap), so
// nothing either did is lost. The kernel keeps what its packet path learned
// in maps that stay (replaceTableText).
const apply = async (owned: OwnedTable, session: Session): Promise<void> => {
  const store = nftTableStore(owned.family, owned.name)
  let basis = session.seedOf(owned)
  let next = session.tableOf(owned)
  while (next) {
    const planned = next
    const changedMeanwhile = transact(store, (current) =>
      sameTable(current, basis)
        ? { next: planned, ...(current ? { previous: () => owned.rendered(current) } : {}), result: undefined }
        : { result: { current } },
    )
    if (changedMeanwhile === undefined) return
    basis = changedMeanwhile.current
    next = await session.replayOn(owned, basis)
  }
}

// Every change but an append bumps the generation; an append adds a named counter.
const sameTable = (a: KernelTable | undefined, b: KernelTable | undefined): boolean =>
  generationOf(a) === generationOf(b) && [...(a?.counters.keys() ?? [])].join() === [...(b?.counters.keys() ?? [])].join()

/** Why the kernel could not take a table, for an error this project expects; undefined for any other. */
export const kernelFailure = (e: unknown): string | undefined => {
  if (e instanceof CommitRejected) return `the kernel refused the firewall the script left: ${e.reason}`
  const missing = missingRequirement(e)
  if (missing !== undefined) return `${missing} (${DOCTOR_HINT})`
  if (e instanceof KernelUnavailable) return 'Permission denied (you must be root)'
  return undefined
}

export const runMain = async (script: string, args: readonly string[], io: Io): Promise<number> => {
  const session = new Session()
  let viaUsed = false
  session.watchVia = () => (viaUsed = true)
  let logging = false
  session.startRuntime = () => (logging = true)
  try {
    for (const owned of OWNED_TABLES) {
      const table = nftTableStore(owned.family, owned.name).read()
      if (table) session.seed(owned, table)
    }
  } catch (e) {
    const why = kernelFailure(e)
    if (why === undefined) throw e
    io.err(`legacyfw run: ${why}\n`)
    return 1
  }
  if (realCommand('bash') === undefined) {
    io.err(`legacyfw run: bash not found (${DOCTOR_HINT})\n`)
    return 1
  }
  const dir = makeRunDir('run')
  try {
    prepareServeDir(dir, SERVED_COMMANDS, false)
    writeFileSync(join(dir, 'run.sh'), wrapper(dir))
    writeFileSync(join(dir, 'knobs.sed'), `${missingKnobSed('legacyfw run: ')}\n`)
    const env = { ...process.env, LFW_DIR: dir, LFW_SERVER_PID: String(process.pid), PATH: `${join(dir, 'bin')}:${process.env['PATH'] ?? ''}` }
    const requests = openRequests(dir)
    const child = spawn('bash', [join(dir, 'run.sh'), script, ...args], { stdio: 'inherit', env })
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()))
    const { status, lingering } = await serve(dir, session, requests)
    await exited
    if (lingering)
      io.err(
        `legacyfw run: ${script}: processes it started in the background still ran when it ended; they were served until they ended (at most ${LINGER_SECONDS} s)\n`,
      )
    let failed = false
    for (const [owned] of session.changed())
      try {
        await apply(owned, session)
      } catch (e) {
        const why = kernelFailure(e)
        if (why === undefined) throw e
        io.err(`legacyfw run: ${why}; table ${owned.name} left as it was\n`)
        failed = true
      }
    // As ipfwadm does after a commit with -V rules: the watcher keeps their sets current.
    if (viaUsed && !failed) startViaWatch()
    // Their lines come from the runtime (it ends by itself if a later command removed them).
    if (logging && !failed) startRuntime()
    return failed && status === 0 ? 1 : status
  } finally {
    removeDir(dir)
  }
}
