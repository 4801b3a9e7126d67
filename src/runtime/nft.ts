// Runs the nft binary. Synchronous on purpose: a legacy command makes one or
// two calls and nothing else to overlap them with, and node:child_process
// loads far faster than a process library.
import { spawnSync } from 'node:child_process'

export interface NftResult {
  readonly status: number
  readonly stdout: string
  readonly stderr: string
}

export class NftMissing extends Error {}

export const runNft = (args: readonly string[], input?: string): NftResult => {
  const result = spawnSync('nft', args, { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
  if (result.error) {
    if ((result.error as NodeJS.ErrnoException).code === 'ENOENT') throw new NftMissing('nft not found')
    throw result.error
  }
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr }
}
