// Runs the nft binary. Synchronous on purpose: a legacy command makes one or
// two calls and nothing else to overlap them with, and node:child_process
// loads far faster than a process library.
import { execFile, spawnSync } from 'node:child_process'

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

/**
 * Runs nft without blocking: for the resident runtime's periodic looks,
 * which must not hold up the packets it is handed meanwhile.
 */
export const runNftAsync = (args: readonly string[]): Promise<NftResult> =>
  new Promise((resolve) =>
    execFile('nft', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    ),
  )
