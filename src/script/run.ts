// legacyfw run SCRIPT [ARGS...]: the script runs unchanged under bash, its
// legacy commands served by this one process from memory (starting from
// what the kernel holds), so each prints, fails and lists exactly as the
// live command would; when the script ends, however it ends, the firewall
// it left behind goes to the kernel in one transaction per owned table.
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CommitRejected, KernelUnavailable, nftTableStore, transact } from '../runtime/store.ts'
import { NftMissing } from '../runtime/nft.ts'
import { prepareServeDir, removeDir, serve, shellWord } from './serve.ts'
import { Session } from './session.ts'
import type { Io } from '../runtime/sys.ts'
import { startViaWatch } from '../runtime/via-watch.ts'
import { LEGACY_COMMANDS, OWNED_TABLES, type OwnedTable } from '../tools/registry.ts'

// The script under bash with the functions (BASH_ENV), then the end message.
const wrapper = (dir: string): string => `BASH_ENV=${shellWord(join(dir, 'env.bash'))} bash "$@"
rc=$?
printf 'end\\0%s\\0' "$rc" >${shellWord(join(dir, 'req'))}
exit $rc
`

// The kernel keeps what its packet path learned in maps that stay (replaceTableText).
const apply = (owned: OwnedTable, session: Session): void => {
  const next = session.storeOf(owned).nft()
  if (!next) return
  transact(nftTableStore(owned.family, owned.name), (current) => ({
    next,
    ...(current ? { previous: () => owned.rendered(current) } : {}),
    result: undefined,
  }))
}

const failure = (e: unknown): string | undefined => {
  if (e instanceof CommitRejected) return `the kernel refused the firewall the script left: ${e.reason}`
  if (e instanceof KernelUnavailable) return e.reason === 'permission' ? 'Permission denied (you must be root)' : 'this kernel has no nftables'
  if (e instanceof NftMissing) return 'nft not found'
  return undefined
}

export const runMain = async (script: string, args: readonly string[], io: Io): Promise<number> => {
  const session = new Session()
  let viaUsed = false
  session.watchVia = () => (viaUsed = true)
  try {
    for (const owned of OWNED_TABLES) {
      const table = nftTableStore(owned.family, owned.name).read()
      if (table) session.seed(owned, table)
    }
  } catch (e) {
    const why = failure(e)
    if (why === undefined) throw e
    io.err(`legacyfw run: ${why}\n`)
    return 1
  }
  const dir = mkdtempSync(join(tmpdir(), 'lfw-run-'))
  try {
    prepareServeDir(dir, LEGACY_COMMANDS, false)
    writeFileSync(join(dir, 'run.sh'), wrapper(dir))
    const env = { ...process.env, LFW_DIR: dir, PATH: `${join(dir, 'bin')}:${process.env['PATH'] ?? ''}` }
    const child = spawn('bash', [join(dir, 'run.sh'), script, ...args], { stdio: 'inherit', env })
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()))
    const status = await serve(dir, session)
    await exited
    let failed = false
    for (const [owned] of session.changed())
      try {
        apply(owned, session)
      } catch (e) {
        const why = failure(e)
        if (why === undefined) throw e
        io.err(`legacyfw run: ${why}; table ${owned.name} left as it was\n`)
        failed = true
      }
    // As ipfwadm does after a commit with -V rules: the watcher keeps their sets current.
    if (viaUsed && !failed) startViaWatch()
    return failed && status === 0 ? 1 : status
  } finally {
    removeDir(dir)
  }
}
