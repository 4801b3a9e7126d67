// Golden fixtures in pure mode: parse, validate, execute, render and decode
// exactly as live, against an in-memory table.
import t from 'tap'
import { GOLDEN_TOOLS, actsOnEntries, caseNames, expectFile, orphans, readCase, transcriptEntry } from './helpers/golden.ts'
import { pureWorld, runPure } from './helpers/tools.ts'

const TOOLS = GOLDEN_TOOLS.filter((tool) => !actsOnEntries(tool))

for (const tool of TOOLS) {
  t.test(`${tool}: every golden file has a case`, async (t) => {
    t.same(orphans(tool), [])
  })
  for (const name of caseNames(tool)) {
    t.test(`${tool}/${name}`, async (t) => {
      const world = pureWorld()
      let transcript = ''
      for (const cmd of readCase(tool, name)) {
        const run = await runPure(world, cmd.argv, cmd)
        transcript += transcriptEntry(cmd.line, run.stdout, run.stderr, run.status)
      }
      expectFile(t, tool, `${name}.out`, transcript)
      expectFile(t, tool, `${name}.nft`, (tool === 'ipfwadm' ? world.fwadmStore : world.store).text())
    })
  }
}
