// npm pack (prepack): gives each bundle in dist/ its V8 code cache
// (bin/boot.cjs), so that an installed command starts warm even where its
// install directory is read-only. The commands run their common paths
// (change, list, save) in a throwaway user and network namespace; where
// none can be made, only their help, which still compiles their start-up.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'

const RUNS = [
  ['ipchains', '-A', 'input', '-s', '10.0.0.0/8', '-p', 'tcp', '--dport', '80', '-j', 'ACCEPT'],
  ['ipchains', '-P', 'forward', 'DENY'],
  ['ipchains', '-A', 'forward', '-s', '192.168.1.0/24', '-j', 'MASQ'],
  ['ipchains', '-L', '-n', '-v'],
  ['ipchains', '-D', 'input', '1'],
  ['ipchains-save'],
  ['ipchains-restore', '-f'],
  ['ipfwadm', '-I', '-a', 'accept', '-P', 'tcp', '-S', '10.0.0.1', '-D', '0/0', '80'],
  ['ipfwadm', '-F', '-p', 'deny'],
  ['ipfwadm', '-I', '-l', '-n', '-e'],
  ['ipautofw', '-A', '-r', 'udp', '6970', '7170', '-c', 'tcp', '7070'],
  ['ipmasqadm', 'portfw', '-a', '-P', 'tcp', '-L', '10.0.0.1', '80', '-R', '192.168.1.10', '80'],
  ['ipmasqadm', 'portfw', '-l', '-n'],
  ['legacyfw', 'proc', 'ip_masq/portfw'],
]
const HELP = {
  ipchains: ['-h'],
  'ipchains-save': ['-h'],
  'ipchains-restore': ['-h'],
  ipfwadm: ['-h'],
  ipautofw: ['-h'],
  ipmasqadm: ['-h'],
  legacyfw: ['--help'],
}

const commands = readdirSync('dist')
  .filter((f) => /^entry-.*\.cjs$/.test(f))
  .map((f) => f.slice('entry-'.length, -'.cjs'.length))
  .filter((c) => Object.hasOwn(HELP, c))

const inNamespace = spawnSync('unshare', ['--user', '--map-root-user', '--net', 'nft', 'list', 'ruleset']).status === 0
const script = inNamespace
  ? RUNS.map((argv) => `bin/${argv.join(' ')} </dev/null >/dev/null 2>&1`).join('\n')
  : commands.map((c) => `bin/${c} ${HELP[c].join(' ')} >/dev/null 2>&1`).join('\n')
const r = spawnSync(inNamespace ? 'unshare' : 'sh', inNamespace ? ['--user', '--map-root-user', '--net', 'sh', '-c', script] : ['-c', script], {
  stdio: 'inherit',
})
if (r.error) throw r.error
// Help runs for the commands the namespace runs did not reach, so every bundle has a cache.
for (const c of commands) spawnSync(`bin/${c}`, HELP[c], { stdio: 'ignore' })
const missing = commands.filter((c) => !readdirSync('dist').includes(`entry-${c}.cjs.cache`))
if (missing.length > 0) throw new Error(`no code cache for ${missing.join(', ')}`)
