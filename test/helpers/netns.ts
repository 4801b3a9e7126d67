// Network namespaces for tests: the runtime helpers, and the loud failure
// when the kernel-facing tests cannot run here.
import { spawnSync } from 'node:child_process'

import { inNetns } from '../../src/runtime/netns.ts'

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
