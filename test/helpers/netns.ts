// Network namespaces for tests: the runtime helpers, and the loud failure
// when the kernel-facing tests cannot run here.
import { spawnSync } from 'node:child_process'

export { deleteNetns, inNetns, newNetns, withNetns, withoutTapLoader } from '../../src/runtime/netns.ts'

/** Fails loudly when the kernel-facing tests cannot run here. */
export const requireRootAndNft = (): string | undefined => {
  if (process.getuid?.() !== 0) return 'these tests need root (CI runs as root)'
  if (spawnSync('nft', ['--version']).status !== 0) return 'these tests need nft (apt-get install nftables)'
  if (spawnSync('ip', ['-V']).status !== 0) return 'these tests need iproute2'
  return undefined
}

