// ESLint: the recommended rules (without type information: fast, and tsc
// already checks types) and the layer order of src/ (docs/architecture.md).
// test/lint.test.ts checks that the layer rules bite.
import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

// Top to bottom: a layer imports only itself and the layers below it.
const LAYERS = ['cli', 'script', 'tools', 'runtime', 'translate']

/** The import pattern of a relative path into any of `layers`, from anywhere below src/. */
const into = (layers) => ({
  regex: `^(\\.\\./)+(${layers.join('|')})(/|$)`,
  message: `src/ layers import downward only: ${LAYERS.join(' -> ')} (docs/architecture.md).`,
})

// src/translate is pure: no node: modules, no packages (none does I/O now; a
// pure one may be allowed here by name), no process, console or network.
const PURE_IMPORTS = {
  regex: '^[^.]',
  message: 'src/translate is pure: no node: modules or packages (docs/architecture.md).',
}

const layerRules = LAYERS.map((layer, i) => {
  const pure = layer === 'translate'
  const above = LAYERS.slice(0, i)
  const patterns = [...(above.length ? [into(above)] : []), ...(pure ? [PURE_IMPORTS] : [])]
  return {
    files: [`src/${layer}/**`],
    rules: {
      ...(patterns.length ? { 'no-restricted-imports': ['error', { patterns }] } : {}),
      ...(pure ? { 'no-restricted-globals': ['error', 'process', 'console', 'fetch'] } : {}),
    },
  }
})

export default tseslint.config(
  { ignores: ['dist/', 'dist.build-*/', 'fixtures/', '.tap/', 'node_modules/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  { languageOptions: { globals: globals.node } },
  // Leaving a property out with a rest sibling (`const { x: _x, ...rest } = o`) is how to omit one.
  { rules: { '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }] } },
  // bin/ is CommonJS on purpose (bin/boot.cjs: Node then never starts its ES module loader).
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs' }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
  // Tests match the legacy tools' column layouts: their runs of spaces read best as written.
  { files: ['test/**'], rules: { 'no-regex-spaces': 'off' } },
  ...layerRules,
)
