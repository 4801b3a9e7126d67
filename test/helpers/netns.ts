// Network namespaces for tests: the runtime helpers, and the loud failure
// when the kernel-facing tests cannot run here.
import { spawn, spawnSync } from 'node:child_process'
import { basename } from 'node:path'
import type { Test } from 'tap'

import { inNetns, withoutTapLoader } from '../../src/runtime/netns.ts'

export { deleteNetns, inNetns, newNetns, withNetns, withoutTapLoader } from '../../src/runtime/netns.ts'

/** Fails loudly when the kernel-facing tests cannot run here. */
export const requireRootAndNft = (): string | undefined => {
  if (process.getuid?.() !== 0) return 'these tests need root (CI runs as root)'
  if (spawnSync('nft', ['--version']).status !== 0) return 'these tests need nft (apt-get install nftables)'
  if (spawnSync('ip', ['-V']).status !== 0) return 'these tests need iproute2'
  return undefined
}

/** The namespace's ruleset; generation elements' remaining time is not state. */
export const ruleset = (ns: string): string => inNetns(ns, ['nft', 'list', 'ruleset']).stdout.replace(/ expires [0-9hms]+/g, '')

/** Echo requests to 127.0.0.1 (each makes a request and a reply over lo). */
export const pingLoopback = (ns: string, count: number): void => {
  inNetns(ns, ['ping', '-c', String(count), '-i', '0.01', '-W', '1', '127.0.0.1'])
}

/** Runs argv in the namespace without blocking: its exit status and its stdout and stderr as they came. */
export const inNetnsAsync = (ns: string, argv: readonly string[]): Promise<{ status: number | null; out: string }> =>
  new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', ns, ...withoutTapLoader(argv)], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    child.on('close', (status) => resolve({ status, out }))
  })

/**
 * Starts `jobs` commands at once, the i-th adding a rule for the source
 * 10.9.0.<i>: every one must succeed, and the rules `listed` afterwards
 * (one line each) must hold each source once.
 */
export const checkConcurrentAdds = async (
  t: Test,
  ns: string,
  jobs: number,
  command: (i: number, source: string) => string[],
  listed: () => string[],
): Promise<void> => {
  const runs = Array.from({ length: jobs }, (_, i) => inNetnsAsync(ns, command(i, `10.9.0.${i}`)))
  t.same(
    (await Promise.all(runs)).map((r) => r.status),
    Array(jobs).fill(0),
    'every command succeeded',
  )
  const sources = listed().map((line) => /10\.9\.0\.\d+/.exec(line)?.[0])
  t.same([...sources].sort(), Array.from({ length: jobs }, (_, i) => `10.9.0.${i}`).sort(), 'every rule is there once')
}

/** Each command of `bin` must fail and leave the namespace's ruleset byte-identical. */
export const checkRefusedLeaveRuleset = (t: Test, ns: string, bin: string, commands: readonly string[][]): void => {
  const before = ruleset(ns)
  for (const args of commands) {
    const r = inNetns(ns, [bin, ...args])
    t.not(r.status, 0, `${basename(bin)} ${args.join(' ')} fails`)
    t.equal(ruleset(ns), before, `${basename(bin)} ${args.join(' ')} left the ruleset byte-identical`)
  }
}
