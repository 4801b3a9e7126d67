// Golden fixtures of ipautofw and ipmasqadm in pure mode: parse, apply,
// render and decode exactly as live, against an in-memory table.
import t from 'tap'
import { ipautofwMain, ipmasqadmMain } from '../src/cli/ipmasqadm.ts'
import { caseNames, expectFile, orphans, readCase, transcriptEntry } from './helpers/golden.ts'
import { MemoryFwStore } from './helpers/fw-memory-store.ts'
import { captureSys } from './helpers/sys.ts'

const MAIN = { ipautofw: ipautofwMain, ipmasqadm: ipmasqadmMain } as const
const TOOLS = Object.keys(MAIN) as (keyof typeof MAIN)[]

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
        const main = MAIN[program as keyof typeof MAIN]
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
