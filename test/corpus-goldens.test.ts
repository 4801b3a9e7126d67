// Corpus goldens: every corpus script with active commands (ipchains,
// ipfwadm, ipmasqadm, ipautofw, multi/ and the Debian ipmasq fragments)
// goes through `legacyfw translate` (the interfaces and arguments of its
// row in the settings table, fixtures/corpus/settings.json; companion files)
// without a crash; the nft file must
// equal fixtures/corpus/<path>.nft and load with `nft -c -f` in a fresh
// namespace, and the report (errors, unsupported commands, divergences and
// the script's own errors, each with its line, and how it ended) must equal
// <path>.report. Broken originals keep the state up to their failure; the
// table's row says what stops them. TAP_SNAPSHOT=1
// rewrites the fixtures (review the diff).
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { requireRootAndNft } from './helpers/netns.ts'
import { CORPUS, activeScripts } from './helpers/corpus.ts'
import { type NoTranslation, type ScriptTranslation, translateScript } from '../src/script/translate.ts'

const FIXTURES = new URL('../fixtures/corpus/', import.meta.url).pathname
const SNAPSHOT = process.env['TAP_SNAPSHOT'] === '1'

/** Rule fragments of the Debian ipmasq program (MANIFEST rows under multi/<dir>/) with active commands. */
const activeFragments = (): string[] => {
  const manifest = readFileSync(`${CORPUS}/MANIFEST.md`, 'utf8')
  const rows = [...manifest.matchAll(/^\| *\d+ *\| *`(multi\/debian-ipmasq-[^`]+\/[^`/]+)` *\| *\d+ *\| *(\d+) *\|/gm)]
  return rows.filter((m) => Number(m[2]) > 0).map((m) => m[1] as string)
}

/** Every corpus script with active commands of the tools legacyfw serves, and the multi/ ones. */
const FILES = [
  ...['ipchains', 'ipfwadm', 'ipmasqadm', 'ipautofw'].flatMap((dir) => activeScripts(dir).map((f) => `${dir}/${f}`)),
  ...activeScripts('multi').map((f) => `multi/${f}`),
  ...activeFragments(),
]
/** Files some scripts read or run from the host: the companion corpus file the MANIFEST names. */
const COMPANIONS: Record<string, Record<string, string>> = {
  'ipchains/bastille-ipchains.sh': { '/etc/Bastille/bastille-firewall.cfg': `${CORPUS}/ipchains/bastille-firewall.cfg` },
  'ipchains/firewall-howto-gfcc-initscript.sh': { '/etc/gfcc/rules/firewall.rule.sh': `${CORPUS}/ipchains/firewall-howto-gfcc-generated-rules.sh` },
  'ipchains/ipmasq-howto-2005-firewall-ipchains-initscript.sh': {
    '/etc/rc.d/rc.firewall-ipchains': `${CORPUS}/ipchains/ipmasq-howto-2005-rc.firewall-ipchains.sh`,
  },
  'ipfwadm/ipmasq-howto-2005-firewall-ipfwadm-initscript.sh': {
    '/etc/rc.d/rc.firewall-ipfwadm': `${CORPUS}/ipfwadm/ipmasq-howto-2005-rc.firewall-ipfwadm.sh`,
  },
}

/**
 * A Debian ipmasq fragment is meant to be sourced after the ones before it
 * (the ipmasq program sources its rules directory in file-name order): it
 * is translated as the state after sourcing its directory up to itself, on
 * a gateway with eth0 outside (the default route) and eth1 inside. The
 * package's interface helpers (trimmed from the corpus) are stand-ins
 * reading `ip`; the rule method is pinned to ipfwadm after A02masqmethod.def
 * (the Linux 2.0 branch: this kernel's /proc/net/ip_tables_names would pick
 * iptables). The report names fragment lines by their corpus path.
 */
const FRAGMENT_INTERFACES = [
  { name: 'eth0', cidr: '10.64.0.1/24' },
  { name: 'eth1', cidr: '192.168.1.1/24' },
]
const HELPERS = `ip route add default via 10.64.0.254 dev eth0
default-if() { ip -4 route show default | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") print $(i + 1) }'; }
enumerate-if() { ip -o link show up | awk -F': ' '{ print $2 }' | cut -d@ -f1; }
cidrofif() { ip -4 -o addr show dev "$1" | awk '{ print $4; exit }'; }
ipofif() { cidrofif "$1" | cut -d/ -f1; }
nmofif() { local b; b=$(cidrofif "$1" | cut -d/ -f2); [ -n "$b" ] || return 0; local m=$(( (0xffffffff << (32 - b)) & 0xffffffff )); echo "$((m >> 24 & 255)).$((m >> 16 & 255)).$((m >> 8 & 255)).$((m & 255))"; }
peerofif() { ip -4 -o addr show dev "$1" | awk '{ for (i = 1; i < NF; i++) if ($i == "peer") { print $(i + 1); exit } }' | cut -d/ -f1; }
bcofif() { ip -4 -o addr show dev "$1" | awk '{ for (i = 1; i < NF; i++) if ($i == "brd") { print $(i + 1); exit } }'; }
`
const DRIVERS = mkdtempSync(join(tmpdir(), 'lfw-corpus-drivers-'))
const fragmentDriver = (file: string): { path: string; text: string; interfaces: { name: string; cidr: string }[] } => {
  const dir = join(CORPUS, dirname(file))
  const upTo = readdirSync(dir)
    .filter((f) => /\.(def|rul)$/.test(f))
    .sort()
    .filter((f) => f <= basename(file))
  const path = join(DRIVERS, basename(dirname(file)), basename(file))
  mkdirSync(dirname(path), { recursive: true })
  const sources = upTo.map((f) => `. ${join(dir, f)}\n${f === 'A02masqmethod.def' ? 'MASQMETHOD=ipfwadm\n' : ''}`).join('')
  const text = `# Debian ipmasq: ${dirname(file)} sourced in file-name order up to ${basename(file)}\n${HELPERS}${sources}`
  writeFileSync(path, text)
  return { path, text, interfaces: FRAGMENT_INTERFACES }
}

/**
 * The reviewed settings table (fixtures/corpus/settings.json): per script,
 * the arguments and interfaces its text expects (pppd's arguments for ip-up
 * scripts, `start` for init scripts, the interfaces and addresses it reads),
 * and why; or, for a script that stops early, the authentic bug or
 * placeholder that stops it.
 */
interface Setting {
  readonly args: readonly string[]
  /** NAME=ADDR/LEN each. */
  readonly interfaces: readonly string[]
  readonly why: string
}
const SETTINGS = JSON.parse(readFileSync(join(FIXTURES, 'settings.json'), 'utf8')) as Record<string, Setting>

/** The script to translate, its arguments and the sandbox's interfaces (a script without a row gets none: the test fails on it). */
const scriptOf = (file: string): { path: string; args: string[]; interfaces: { name: string; cidr: string }[] } => {
  if (file.startsWith('multi/debian-ipmasq-')) return { ...fragmentDriver(file), args: [] }
  const setting = SETTINGS[file]
  const interfaces = (setting?.interfaces ?? []).map((spec) => ({ name: spec.split('=')[0] as string, cidr: spec.split('=')[1] as string }))
  return { path: join(CORPUS, file), args: [...(setting?.args ?? [])], interfaces }
}
const PARALLEL = 2

/** The report golden: legacyfw's lines, then the script's own errors ("script: line N: ...", or a fragment's). */
const reportOf = (tr: ScriptTranslation): string => {
  const own = tr.output.split('\n').filter((l) => /^(?:script|\/\S+\.(?:def|rul)): line \d+: /.test(l))
  // A sandbox veth gets a random MAC, so a script that reads an IPv6 link-local address sees a random one.
  // Whether a background job of the script (rc.masqfw's redir) still runs when it ends is a race: not golden.
  const report = tr.report.filter((l) => !/^script: processes it started in the background still ran/.test(l))
  return [...report, ...own].map((l) => `${l.replace(/\bfe80::[0-9a-f:]+/g, 'fe80::LINK-LOCAL')}\n`).join('')
}

/** Fragment lines are named by their absolute corpus path; the goldens name it $CORPUS, so they hold wherever the checkout lies. */
const portable = (text: string): string => text.replaceAll(`${CORPUS}/`, '$CORPUS/')

const nftCheck = (text: string) => spawnSync('unshare', ['-n', 'nft', '-c', '-f', '-'], { input: text, encoding: 'utf8' })

const files = FILES
const missing = requireRootAndNft()
if (missing) t.fail(missing)
else {
  t.teardown(() => rmSync(DRIVERS, { recursive: true, force: true }))
  t.ok(files.length >= 105, `${files.length} corpus scripts`)
  t.same(
    Object.keys(SETTINGS).filter((f) => !files.includes(f)),
    [],
    'the settings table names corpus scripts only',
  )
  t.same(
    files.filter((f) => !f.startsWith('multi/debian-ipmasq-') && !Object.hasOwn(SETTINGS, f)),
    [],
    'every corpus script has a row in the settings table (its interfaces, arguments and why)',
  )
  const results = new Map<string, Promise<ScriptTranslation | NoTranslation>>()
  const queue: Promise<unknown>[] = []
  for (const file of files) {
    const { path, args, interfaces } = scriptOf(file)
    const start = async () => translateScript(path, { args, interfaces, files: COMPANIONS[file] ?? {}, timeoutMs: 60_000 })
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
      if (!tr || 'failure' in tr) return t.fail(`no translation: ${JSON.stringify(tr)}`)
      t.notMatch(tr.output, /\n\s+at .*:\d+\)?\n|node:internal\//, 'no crash')
      const check = nftCheck(tr.file)
      t.equal(check.status, 0, `loads with nft -c -f: ${check.stderr}`)
      const nftPath = join(FIXTURES, `${file}.nft`)
      const reportPath = join(FIXTURES, `${file}.report`)
      if (SNAPSHOT) {
        mkdirSync(dirname(nftPath), { recursive: true })
        writeFileSync(nftPath, portable(tr.file))
        writeFileSync(reportPath, portable(reportOf(tr)))
      }
      t.ok(existsSync(nftPath), `${nftPath} exists (TAP_SNAPSHOT=1 writes it)`)
      if (!existsSync(nftPath)) return
      t.equal(portable(tr.file), readFileSync(nftPath, 'utf8'), 'the nft file as in the fixture')
      t.equal(portable(reportOf(tr)), readFileSync(reportPath, 'utf8'), 'the report as in the fixture')
    })
}
