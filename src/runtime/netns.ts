// Network namespaces made (and removed) by legacyfw's tests and demo.
// Nothing they do to the firewall, sysctls or traffic happens outside them.
import { execFileSync, spawnSync } from 'node:child_process'
import { appendFileSync } from 'node:fs'

let counter = 0
/** Namespaces made here and not deleted yet: whatever ends the process, they go. */
const made = new Set<string>()
const deleteLeftovers = (): void => {
  for (const name of made) deleteNetns(name)
}

export const newNetns = (tag: string): string => addNetns(`lfw-${tag}-${process.pid}-${++counter}`)

/** Makes the namespace `name`, with lo up. */
export const addNetns = (name: string): string => {
  execFileSync('ip', ['netns', 'add', name])
  if (made.size === 0) process.once('exit', deleteLeftovers)
  made.add(name)
  // npm test checks that every namespace its tests made is gone at the end.
  const log = process.env['LEGACYFW_NETNS_LOG']
  if (log) appendFileSync(log, `${name}\n`)
  try {
    execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up'])
  } catch (e) {
    deleteNetns(name)
    throw e
  }
  return name
}

/** Ends every process left in the namespace (by PID), then deletes it. */
export const deleteNetns = (name: string): void => {
  const pids = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL')
    } catch {
      // already gone
    }
  }
  // Not deleted: tried again when the process exits.
  if (spawnSync('ip', ['netns', 'del', name]).status !== 0) return
  made.delete(name)
  if (made.size === 0) process.removeListener('exit', deleteLeftovers)
}

export const withNetns = async <T>(tag: string, body: (ns: string) => Promise<T> | T): Promise<T> => {
  const ns = newNetns(tag)
  try {
    return await body(ns)
  } finally {
    deleteNetns(ns)
  }
}

/**
 * The command line that runs argv without inherited Node loader options (a
 * test runner re-injects NODE_OPTIONS into every child it sees spawned).
 */
export const withoutTapLoader = (argv: readonly string[]): string[] => ['env', '-u', 'NODE_OPTIONS', ...argv]

export const inNetns = (ns: string, argv: readonly string[], input?: string) =>
  spawnSync('ip', ['netns', 'exec', ns, ...withoutTapLoader(argv)], { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 })
