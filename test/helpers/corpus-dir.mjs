// Where the shared corpus of legacy scripts is: $LEGACYFW_CORPUS, else
// shared/corpus beside the repository (CI runs a fresh clone with a copy
// of shared/ next to it). Plain JavaScript: the benchmarks import it too.
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url))

/** A path in the corpus; throws, saying where it looked, when the corpus is not there. */
export const corpusPath = (...parts) => {
  const root = process.env['LEGACYFW_CORPUS'] || resolve(REPOSITORY, '../shared/corpus')
  if (!existsSync(join(root, 'MANIFEST.md')))
    throw new Error(`legacyfw: no corpus at ${root} (no MANIFEST.md): put a copy of shared/ beside the repository or set LEGACYFW_CORPUS`)
  return join(root, ...parts)
}
