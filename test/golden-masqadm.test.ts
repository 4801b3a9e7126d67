// Golden fixtures of ipautofw and ipmasqadm in pure mode: parse, apply,
// render and decode exactly as live, against an in-memory table.
import t from 'tap'
import { AUTOFW_TABLE, MASQADM_TABLE } from '../src/translate/ipmasqadm/state.ts'
import { type MasqWorld, ipautofwMain, ipmasqadmMain } from '../src/tools/ipmasqadm.ts'
import { procMain } from '../src/cli/proc.ts'
import { NO_FORWARDING } from '../src/translate/common/masq.ts'
import type { Sys } from '../src/runtime/sys.ts'
import { caseNames, expectFile, orphans, readCase, transcriptEntry } from './helpers/golden.ts'
import { MemoryFwStore } from './helpers/fw-memory-store.ts'
import { captureSys } from './helpers/sys.ts'

const TABLE = { ipautofw: AUTOFW_TABLE, ipmasqadm: MASQADM_TABLE } as const
const TOOLS = Object.keys(TABLE) as (keyof typeof TABLE)[]

// `legacyfw proc` reads the case's table; no connections are masqueraded.
const legacyfw = (tool: keyof typeof TABLE) => async (args: readonly string[], sys: Sys, { store }: MasqWorld) => {
  if (args[0] !== 'proc') throw new Error(`${tool}: only legacyfw proc has a pure runner`)
  return procMain(args.slice(1), sys, {
    read: (table) => (table === TABLE[tool] ? store.read() : undefined),
    conntrack: () => '',
    forwarding: () => NO_FORWARDING,
    tables: () => (store.read() ? [TABLE[tool]] : []),
  })
}

for (const tool of TOOLS) {
  t.test(`${tool}: every golden file has a case`, async (t) => {
    t.same(orphans(tool), [])
  })
  for (const name of caseNames(tool)) {
    t.test(`${tool}/${name}`, async (t) => {
      const store = new MemoryFwStore()
      let transcript = ''
      for (const cmd of readCase(tool, name)) {
        const [program = '', ...args] = cmd.argv
        const main = { ipautofw: ipautofwMain, ipmasqadm: ipmasqadmMain, legacyfw: legacyfw(tool) }[program]
        if (!main) throw new Error(`${tool}/${name}: no pure runner for ${program}`)
        const sys = captureSys(program)
        const status = await main(args, sys, { store })
        const text = (stream: 'out' | 'err'): string => sys.chunks.filter((c) => c.stream === stream).map((c) => c.text).join('')
        transcript += transcriptEntry(cmd.line, text('out'), text('err'), status)
      }
      expectFile(t, tool, `${name}.out`, transcript)
      expectFile(t, tool, `${name}.nft`, store.text())
    })
  }
}
