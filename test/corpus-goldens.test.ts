// Corpus goldens: every corpus script with active commands of a tool
// legacyfw serves goes through `legacyfw translate` (fixed interfaces, its
// start argument and companion files) without a crash; the nft file must
// equal fixtures/corpus/<path>.nft and load with `nft -c -f` in a fresh
// namespace, and the report (errors, unsupported commands, divergences and
// the script's own errors, each with its line) must equal <path>.report.
// Broken originals keep the state up to their failure. TAP_SNAPSHOT=1
// rewrites the fixtures (review the diff).
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { requireRootAndNft } from './helpers/netns.ts'
import { CORPUS, activeScripts, argsOf, interfacesOf } from './helpers/corpus.ts'
import { type ScriptTranslation, translateScript } from '../src/cli/legacyfw.ts'

const FIXTURES = new URL('../fixtures/corpus/', import.meta.url).pathname
const SNAPSHOT = process.env['TAP_SNAPSHOT'] === '1'
/** Corpus scripts using only tools legacyfw serves (ipfwadm/ and ipmasqadm/ come with their tools), and multi/ ones that choose ipchains here. */
const FILES = [...activeScripts('ipchains').map((f) => `ipchains/${f}`), 'multi/dhcpcd-readme-rc.local-masq.sh']
/** Files some scripts read or run from the host: the companion corpus file the MANIFEST names. */
const COMPANIONS: Record<string, Record<string, string>> = {
  'ipchains/bastille-ipchains.sh': { '/etc/Bastille/bastille-firewall.cfg': `${CORPUS}/ipchains/bastille-firewall.cfg` },
  'ipchains/firewall-howto-gfcc-initscript.sh': { '/etc/gfcc/rules/firewall.rule.sh': `${CORPUS}/ipchains/firewall-howto-gfcc-generated-rules.sh` },
  'ipchains/ipmasq-howto-2005-firewall-ipchains-initscript.sh': {
    '/etc/rc.d/rc.firewall-ipchains': `${CORPUS}/ipchains/ipmasq-howto-2005-rc.firewall-ipchains.sh`,
  },
}
const PARALLEL = 2

/** The report golden: legacyfw's lines, then the script's own errors ("script: line N: ..."). */
const reportOf = (tr: ScriptTranslation): string => {
  const own = tr.output.split('\n').filter((l) => /^script: line \d+: /.test(l))
  return [...tr.report, ...own].map((l) => `${l}\n`).join('')
}

const nftCheck = (text: string) => spawnSync('unshare', ['-n', 'nft', '-c', '-f', '-'], { input: text, encoding: 'utf8' })

const files = FILES
const missing = requireRootAndNft()
if (missing) t.fail(missing)
else {
  t.ok(files.length >= 44, `${files.length} corpus scripts`)
  const results = new Map<string, Promise<ScriptTranslation | undefined>>()
  const queue: Promise<unknown>[] = []
  for (const file of files) {
    const text = readFileSync(join(CORPUS, file), 'latin1')
    // The interfaces the corpus crash test gives each script: 10.64.0.1/24, 10.65.0.1/24, ...
    const interfaces = interfacesOf(text).map((name, i) => ({ name, cidr: `10.${64 + i}.0.1/24` }))
    const start = async () => translateScript(join(CORPUS, file), { args: argsOf(text), interfaces, files: COMPANIONS[file] ?? {}, timeoutMs: 60_000 })
    // PARALLEL at a time: each waits for the one PARALLEL places before it.
    const before = queue[queue.length - PARALLEL] ?? Promise.resolve()
    const result = before.then(start, start)
    result.catch(() => undefined)
    queue.push(result)
    results.set(file, result)
  }

  for (const file of files)
    t.test(file, async (t) => {
      const tr = await results.get(file)
      if (!tr) return t.fail('the sandbox did not start')
      t.notMatch(tr.output, /\n\s+at .*:\d+\)?\n|node:internal\//, 'no crash')
      const check = nftCheck(tr.file)
      t.equal(check.status, 0, `loads with nft -c -f: ${check.stderr}`)
      const nftPath = join(FIXTURES, `${file}.nft`)
      const reportPath = join(FIXTURES, `${file}.report`)
      if (SNAPSHOT) {
        mkdirSync(dirname(nftPath), { recursive: true })
        writeFileSync(nftPath, tr.file)
        writeFileSync(reportPath, reportOf(tr))
      }
      t.ok(existsSync(nftPath), `${nftPath} exists (TAP_SNAPSHOT=1 writes it)`)
      if (!existsSync(nftPath)) return
      t.equal(tr.file, readFileSync(nftPath, 'utf8'), 'the nft file as in the fixture')
      t.equal(reportOf(tr), readFileSync(reportPath, 'utf8'), 'the report as in the fixture')
    })
}
