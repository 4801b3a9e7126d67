'use strict'
// Runs dist/entry-<name>.cjs with a V8 code cache next to it, so functions
// compiled by earlier runs are not compiled again (a legacy command is
// short; compiling is a large part of its run time). After each run the
// cache is rewritten if this run compiled more than it held, so it grows to
// the union of the paths in use. No cache (unwritable dist/, another Node
// version) only costs time. The bin files are CommonJS: Node then never
// starts its ES module loader.
const Module = require('node:module')
const { existsSync, readFileSync, renameSync, writeFileSync } = require('node:fs')
const { dirname, join } = require('node:path')
const { Script } = require('node:vm')

// Inside `legacyfw run` (which sets LFW_DIR), a legacy tool started by a
// program other than bash (bash calls the functions it defines instead) is
// served by the run's resident process all the same, through its bash client.
const servedByRun = (name) => {
  const dir = process.env.LFW_DIR
  if (name === 'legacyfw' || !dir || !existsSync(join(dir, 'req')) || !existsSync(join(dir, 'env.bash'))) return false
  const r = require('node:child_process').spawnSync('bash', ['-c', '. "$LFW_DIR/env.bash" && "$0" "$@"', name, ...process.argv.slice(2)], {
    stdio: 'inherit',
  })
  process.exitCode = r.status ?? 1
  return true
}

exports.boot = (name) => {
  if (servedByRun(name)) return
  const file = join(__dirname, '..', 'dist', `entry-${name}.cjs`)
  const cacheFile = `${file}.cache`
  let cachedData
  try {
    cachedData = readFileSync(cacheFile)
  } catch {
    cachedData = undefined
  }
  const script = new Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData })
  const module = { exports: {} }
  script.runInThisContext().call(module.exports, module.exports, Module.createRequire(file), module, file, dirname(file))
  process.once('exit', () => {
    const data = script.createCachedData()
    if (cachedData !== undefined && !script.cachedDataRejected && data.length <= cachedData.length) return
    try {
      writeFileSync(`${cacheFile}.${process.pid}`, data)
      renameSync(`${cacheFile}.${process.pid}`, cacheFile)
    } catch {
      // no cache this time
    }
  })
}
