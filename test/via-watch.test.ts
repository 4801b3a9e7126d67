// The -V set watcher (src/runtime/via-watch.ts) in a namespace of its own:
// it follows address changes through its `ip monitor` child, and that child
// ends with it even when the watcher is killed outright (SIGKILL leaves it
// no chance to stop the child itself).
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { inNetns, requireRootAndNft, withNetns } from './helpers/netns.ts'
import { projectPath } from '../src/runtime/project.ts'

const IPFWADM = projectPath('bin', 'ipfwadm')

/** The processes in the namespace, with their parent and command line. */
const processes = (ns: string): { pid: number; ppid: number; argv: string[] }[] =>
  spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean)
    .flatMap((p) => {
      try {
        const ppid = Number(/^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1])
        return [{ pid: Number(p), ppid, argv: readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean) }]
      } catch {
        return [] // ended meanwhile
      }
    })

/** Has the process ended (gone, or a zombie its new parent has not reaped yet)? */
const ended = (pid: number): boolean => {
  try {
    return /^\S+ \(.*\) Z /s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return true
  }
}

const within = async (pred: () => boolean, ms: number): Promise<boolean> => {
  const end = Date.now() + ms
  while (!pred()) {
    if (Date.now() > end) return false
    await new Promise((r) => setTimeout(r, 50))
  }
  return true
}

const viaSet = (ns: string, name: string): string[] => {
  const r = inNetns(ns, ['nft', '-j', 'list', 'set', 'ip', 'legacyfw_ipfwadm', name])
  if (r.status !== 0) return []
  return (JSON.parse(r.stdout).nftables as { set?: { elem?: string[] } }[]).find((o) => o.set)?.set?.elem ?? []
}

const missing = requireRootAndNft()
if (missing) t.fail(missing)
else
  t.test('the watcher follows addresses through ip monitor, which ends when the watcher is killed', async (t) => {
    await withNetns('viawatch', async (ns) => {
      const add = inNetns(ns, [IPFWADM, '-I', '-a', 'accept', '-V', '10.9.0.1'])
      t.equal(add.status, 0, add.stderr)
      const find = () => {
        const ps = processes(ns)
        const watcher = ps.find((p) => p.argv.some((a) => a.endsWith('entry-via-watch.cjs')))
        const monitor = ps.find((p) => p.ppid === watcher?.pid && p.argv.join(' ') === 'ip monitor address link')
        return { watcher, monitor }
      }
      t.ok(await within(() => find().monitor !== undefined, 5000), 'ipfwadm started the watcher, and it runs ip monitor address link', {
        processes: processes(ns),
      })
      const { watcher, monitor } = find()
      if (!watcher || !monitor) return

      // The monitor's events reach the watcher: an interface taking the address joins the set.
      t.equal(inNetns(ns, ['ip', 'link', 'add', 'lfw0', 'type', 'veth', 'peer', 'name', 'lfw1']).status, 0)
      t.equal(inNetns(ns, ['ip', 'addr', 'add', '10.9.0.1/24', 'dev', 'lfw0']).status, 0)
      t.ok(await within(() => viaSet(ns, 'via_10_9_0_1').includes('lfw0'), 3000), 'the address change put lfw0 into via_10_9_0_1')

      process.kill(watcher.pid, 'SIGKILL')
      t.ok(await within(() => ended(watcher.pid), 3000), 'the watcher was killed')
      // Without an address change the monitor writes nothing, so nothing but its parent's death can end it.
      t.ok(await within(() => ended(monitor.pid), 3000), `its ip monitor (pid ${monitor.pid}) ended with it`)
      t.same(processes(ns), [], 'no process is left in the namespace')
    })
  })
