// The registry of legacy commands is the one list: every command it
// provides has golden cases (a .sh with its .out and .nft) that golden,
// golden-masqadm and replay run.
import t from 'tap'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { LEGACY_COMMANDS } from '../src/tools/registry.ts'
import { FIXTURES, caseNames } from './helpers/golden.ts'

for (const tool of LEGACY_COMMANDS)
  t.test(`${tool} has golden cases`, async (t) => {
    t.ok(existsSync(join(FIXTURES, tool)), `fixtures/${tool}/ exists`)
    if (!existsSync(join(FIXTURES, tool))) return
    const cases = caseNames(tool)
    t.ok(cases.length > 0, `fixtures/${tool}/ has cases`)
    for (const name of cases) for (const ext of ['out', 'nft']) t.ok(existsSync(join(FIXTURES, tool, `${name}.${ext}`)), `${tool}/${name}.${ext}`)
  })
