// Network namespaces made (and removed) by legacyfw's tests and demo.
// Nothing they do to the firewall, sysctls or traffic happens outside them.
import { execFileSync, spawnSync } from 'node:child_process'

let counter = 0

export const newNetns = (tag: string): string => {
  const name = `lfw-${tag}-${process.pid}-${++counter}`
  execFileSync('ip', ['netns', 'add', name])
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up'])
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
  spawnSync('ip', ['netns', 'del', name])
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
