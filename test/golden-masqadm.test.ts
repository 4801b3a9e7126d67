// Golden fixtures of ipautofw and ipmasqadm in pure mode: parse, apply,
// render and decode exactly as live, against an in-memory table.
import t from 'tap'
import { type LegacyMain, commandTable } from '../src/tools/registry.ts'
import { procMain } from '../src/cli/proc.ts'
import { NO_FORWARDING } from '../src/translate/common/masq.ts'
import { GOLDEN_TOOLS, actsOnEntries, caseNames, expectFile, orphans, readCase, transcriptEntry } from './helpers/golden.ts'
import { MemoryStore } from './helpers/memory-store.ts'
import { captureSys } from './helpers/sys.ts'

const TOOLS = GOLDEN_TOOLS.filter(actsOnEntries)

// `legacyfw proc` reads the case's table; no connections are masqueraded.
const legacyfw =
  (table: string): LegacyMain =>
  async (args, sys, { store }) => {
    if (args[0] !== 'proc') throw new Error(`${table}: only legacyfw proc has a pure runner`)
    return procMain(args.slice(1), sys, {
      read: (name) => (name === table ? store.read() : undefined),
      conntrack: () => '',
      forwarding: () => NO_FORWARDING,
      tables: () => (store.read() ? [table] : []),
    })
  }

for (const tool of TOOLS) {
  const owned = commandTable(tool)
  if (!owned) throw new Error(`${tool}: not in the registry`)
  t.test(`${tool}: every golden file has a case`, async (t) => {
    t.same(orphans(tool), [])
  })
  for (const name of caseNames(tool)) {
    t.test(`${tool}/${name}`, async (t) => {
      const store = new MemoryStore()
      let transcript = ''
      for (const cmd of readCase(tool, name)) {
        const [program = '', ...args] = cmd.argv
        const main = program === 'legacyfw' ? legacyfw(owned.name) : owned.commands[program]
        if (!main) throw new Error(`${tool}/${name}: no pure runner for ${program}`)
        const sys = captureSys(program)
        const status = await main(args, sys, { store, conntrack: () => '', forwarding: () => NO_FORWARDING })
        const text = (stream: 'out' | 'err'): string =>
          sys.chunks
            .filter((c) => c.stream === stream)
            .map((c) => c.text)
            .join('')
        transcript += transcriptEntry(cmd.line, text('out'), text('err'), status)
      }
      expectFile(t, tool, `${name}.out`, transcript)
      expectFile(t, tool, `${name}.nft`, store.text())
    })
  }
}
