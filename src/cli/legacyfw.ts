// legacyfw: the project's own command (modern options, yargs-parser).
//
//   legacyfw demo                      the bundled 2.2 rc.firewall in a lab
//   legacyfw translate SCRIPT [ARGS]   run a script in a sandbox, print nft
import yargsParser from 'yargs-parser'
import { kernelTableFromJson } from '../translate/nft/kernel-table.ts'
import { tableText } from '../translate/nft/text.ts'
import { decodeState } from '../translate/ipchains/decode.ts'
import type { State } from '../translate/ipchains/model.ts'
import { TABLE_NAME, renderState } from '../translate/ipchains/render.ts'
import { projectPath } from '../runtime/project.ts'
import { type ScriptRun, runScript } from '../runtime/sandbox.ts'

export interface Io {
  readonly out: (text: string) => void
  readonly err: (text: string) => void
}

const USAGE = `usage: legacyfw demo
       legacyfw translate SCRIPT [ARGS...]

  demo       as root: build a throwaway lan/gw/wan network of namespaces, run
             the IP-Masquerade HOWTO's 2.2 rc.firewall in the gateway through
             ipchains, list it and send traffic through it; without root:
             translate that script
  translate  run SCRIPT unchanged in throwaway network and mount namespaces
             (the host never changes) and print the nftables file of the
             firewall it leaves behind
`

export const EXAMPLE = projectPath('examples', 'rc.firewall-2.2-strong.sh')

/** Counters named r1, r2, ... in listing order: a file that does not depend on how it was built. */
const renumberCounters = (state: State): State => {
  let n = 0
  const chains = state.chains.map((c) => ({ ...c, entries: c.entries.map((e) => ({ ...e, counter: `r${++n}` })) }))
  return { ...state, chains, counterSeq: n }
}

/** The owned tables in a `nft -j list ruleset`, as nft files in canonical form. */
export const nftFileOf = (ruleset: unknown): string => {
  const table = kernelTableFromJson(ruleset, 'ip', TABLE_NAME)
  return table ? tableText(renderState(renumberCounters(decodeState(table)))) : ''
}

const relayScriptOutput = (run: ScriptRun, io: Io): void => {
  if (run.stdout) io.err(run.stdout)
  if (run.stderr) io.err(run.stderr)
}

export const translate = async (script: string, args: readonly string[], io: Io): Promise<number> => {
  const run = await runScript({ fresh: true }, script, { args, capture: true })
  relayScriptOutput(run, io)
  if (!run.started) {
    io.err('legacyfw: could not set up the sandbox (needs root, or unprivileged user namespaces)\n')
    return 1
  }
  io.out(nftFileOf(run.ruleset))
  return run.status ?? 1
}

export const legacyfwMain = async (argv: readonly string[], io: Io): Promise<number> => {
  const options = yargsParser([...argv], { configuration: { 'halt-at-non-option': true }, boolean: ['help'], alias: { help: 'h' } })
  const [command, ...rest] = options._.map(String)
  if (options['help'] || command === 'help') {
    io.out(USAGE)
    return 0
  }
  switch (command) {
    case 'demo': {
      if (process.getuid?.() !== 0) {
        io.err('legacyfw demo: not root, so no lab; translating the example instead.\n')
        return translate(EXAMPLE, [], io)
      }
      const { demo } = await import('./demo.ts')
      return demo(io)
    }
    case 'translate': {
      const [script, ...args] = rest
      if (script === undefined) break
      return translate(script, args, io)
    }
  }
  io.err(USAGE)
  return 2
}
