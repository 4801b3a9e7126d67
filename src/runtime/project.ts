// Files shipped with the project (bin/, tools/), found from this module
// whether it runs from src/ (tests) or from a bundle in dist/.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = (): string => {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir)
  return dir
}

export const projectPath = (...parts: string[]): string => join(root(), ...parts)
