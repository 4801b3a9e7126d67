// ipchains-save [chain] [-v]: the saved form of the chains on stdout.
import { decodeState } from '../translate/ipchains/decode.ts'
import { DecodeError } from '../translate/nft/kernel-table.ts'
import { SAVE_USAGE, kernelError, kernelErrorText, kernelUnavailableText } from '../translate/ipchains/messages.ts'
import { findChain } from '../translate/ipchains/model.ts'
import { type Output, saveChains } from '../translate/ipchains/save.ts'
import { KernelUnavailable } from '../runtime/store.ts'
import { NftMissing } from '../runtime/nft.ts'
import type { Sys } from '../runtime/sys.ts'
import type { ChainsWorld } from './ipchains.ts'
import { permissionDenied, withDoctorHint } from './output.ts'

/** The chain and -v, or undefined for an unknown option or a second chain. */
const parseSaveArgs = (args: readonly string[]): { chain: string | undefined; verbose: boolean } | undefined => {
  const chains = args.filter((a) => a !== '-v')
  if (chains.length > 1 || chains.some((a) => a.startsWith('-'))) return undefined
  return { chain: chains[0], verbose: args.includes('-v') }
}

export const printOutput = (sys: Sys, output: readonly Output[]): void => {
  for (const { stream, text } of output) (stream === 'out' ? sys.out : sys.err)(text)
}

export const ipchainsSaveMain = async (args: readonly string[], sys: Sys, world: Pick<ChainsWorld, 'store'>): Promise<number> => {
  const parsed = parseSaveArgs(args)
  if (!parsed) {
    sys.err(SAVE_USAGE)
    return 1
  }
  let state
  try {
    state = decodeState(world.store.read())
  } catch (e) {
    if (e instanceof KernelUnavailable || e instanceof NftMissing)
      sys.err(withDoctorHint(kernelError(kernelUnavailableText(permissionDenied(e), true)), e))
    else if (e instanceof DecodeError) sys.err(kernelError(e.message))
    else throw e
    return 1
  }
  if (parsed.chain !== undefined && !findChain(state, parsed.chain)) {
    sys.err(kernelError(kernelErrorText('other', 'ENOENT')))
    return 1
  }
  printOutput(sys, saveChains(state, parsed.chain, parsed.verbose))
  return 0
}
