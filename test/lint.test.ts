// The layer rules of eslint.config.js bite: src/ imports downward only
// (cli -> script -> tools -> runtime -> translate), and src/translate stays
// pure (no node: module, no package, no process). The lint of the whole
// tree runs as `npm run lint`, which `npm test` counts as a case of its own.
import t from 'tap'
import { ESLint } from 'eslint'
import { fileURLToPath } from 'node:url'

const eslint = new ESLint({ cwd: fileURLToPath(new URL('..', import.meta.url)) })

/** The rules a source file at `filePath` (which need not exist) breaks. */
const brokenRules = async (filePath: string, code: string): Promise<string[]> => {
  const results = await eslint.lintText(code, { filePath })
  return results.flatMap((r) => r.messages.map((m) => m.ruleId ?? m.message))
}

const REFUSED: [string, string, string][] = [
  ['src/runtime/x.ts', "import { legacyfwMain } from '../cli/legacyfw.ts'\nexport const main = legacyfwMain\n", 'no-restricted-imports'],
  ['src/tools/x.ts', "export { runMain } from '../script/run.ts'\n", 'no-restricted-imports'],
  ['src/translate/ipchains/x.ts', "import type { Sys } from '../../runtime/sys.ts'\nexport type S = Sys\n", 'no-restricted-imports'],
  ['src/translate/common/x.ts', "import { readFileSync } from 'node:fs'\nexport const read = readFileSync\n", 'no-restricted-imports'],
  ['src/translate/common/x.ts', "import { quote } from 'shell-quote'\nexport const q = quote\n", 'no-restricted-imports'],
  ['src/translate/common/x.ts', 'export const pid = (): number => process.pid\n', 'no-restricted-globals'],
]

for (const [filePath, code, rule] of REFUSED)
  t.test(`${filePath}: ${code.split('\n')[0]}`, async (t) => {
    t.same(await brokenRules(filePath, code), [rule])
  })

t.test('downward imports, and node: modules below src/translate, are allowed', async (t) => {
  const code = [
    "import { spawnSync } from 'node:child_process'",
    "import { runNft } from '../runtime/nft.ts'",
    "import { decodeState } from '../translate/ipchains/decode.ts'",
    "import { print } from './output.ts'",
    'export const used = [spawnSync, runNft, decodeState, print]',
    '',
  ].join('\n')
  t.same(await brokenRules('src/tools/x.ts', code), [])
  t.same(await brokenRules('src/translate/ipfwadm/x.ts', "import { Exit } from '../common/exit.ts'\nexport const E = Exit\n"), [])
})
