// The package as a user gets it: `npm pack` (prepack builds dist/ and warms
// its code caches), then `npm install -g` of the tarball into a throwaway
// prefix. Every installed command runs from that prefix in a fresh network
// namespace and answers exactly as the same command from the checkout; the
// tarball holds the commands' files and nothing of the tests; a read-only
// install directory only costs the cache.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inNetns, requireRootAndNft, withNetns, withoutTapLoader } from './helpers/netns.ts'
import { LEGACY_COMMANDS } from '../src/tools/registry.ts'

const ROOT = new URL('..', import.meta.url).pathname
const COMMANDS = [...LEGACY_COMMANDS, 'legacyfw']
const MAN_PAGES = COMMANDS.map((c) => `man/${c}.8`)
const tmp = mkdtempSync(join(tmpdir(), 'lfw-package-test-'))
const prefix = join(tmp, 'prefix')
const pkg = join(prefix, 'lib/node_modules/legacyfw')

const npm = (args: readonly string[]) => {
  const argv = withoutTapLoader(['npm', ...args])
  return spawnSync(argv[0] as string, argv.slice(1), { cwd: ROOT, encoding: 'utf8' })
}

// A session of a gateway's commands; each line's stdout, stderr and status are compared.
const SESSION: readonly (readonly string[])[] = [
  ['ipchains', '-A', 'input', '-s', '10.0.0.0/8', '-p', 'tcp', '-d', '0/0', '22', '-j', 'ACCEPT'],
  ['ipchains', '-P', 'forward', 'DENY'],
  ['ipchains', '-A', 'forward', '-s', '192.168.1.0/24', '-j', 'MASQ'],
  ['ipchains', '-L', '-n'],
  ['ipchains-save'],
  ['ipchains', '-F'],
  ['ipchains-restore', '-f', '-p'],
  ['ipchains', '-L', 'input', '-n', '-v'],
  ['ipfwadm', '-I', '-a', 'accept', '-P', 'tcp', '-S', '10.1.1.1', '-D', '0/0', '80'],
  ['ipfwadm', '-I', '-l', '-n'],
  ['ipautofw', '-A', '-r', 'udp', '6970', '7170', '-c', 'tcp', '7070'],
  ['ipmasqadm', 'portfw', '-a', '-P', 'tcp', '-L', '10.0.0.1', '80', '-R', '192.168.1.10', '80'],
  ['ipmasqadm', 'portfw', '-l', '-n'],
  ['legacyfw', 'proc', 'ip_autofw'],
  ['legacyfw', 'run', join(tmp, 'rc.firewall'), 'start'],
  ['legacyfw', 'translate', '--no-mirror', '--iface', 'eth0=192.168.1.1/24', join(tmp, 'rc.firewall'), 'start'],
  ['legacyfw', 'doctor'],
]
writeFileSync(
  join(tmp, 'rc.firewall'),
  '#!/bin/sh\n/sbin/modprobe ip_masq_ftp\n/sbin/ipchains -A input -i eth0 -p tcp -d 0/0 23 -j DENY -l\nipfwadm -O -a deny -P udp -D 0/0 53\nipchains -L input -n\necho "$1"\n',
)

/** Runs the session with the commands of `binDir` in a fresh namespace; ipchains-restore reads what ipchains-save printed. */
const runSession = (binDir: string) =>
  withNetns('pkg', (ns) => {
    let saved = ''
    return SESSION.map((argv) => {
      const r = inNetns(ns, [join(binDir, argv[0] as string), ...argv.slice(1)], argv[0] === 'ipchains-restore' ? saved : undefined)
      if (argv[0] === 'ipchains-save') saved = r.stdout
      return { argv: argv.join(' '), stdout: r.stdout, stderr: r.stderr, status: r.status }
    })
  })

t.test('packed and installed globally, every command works from the prefix', async (t) => {
  const why = requireRootAndNft()
  t.notOk(why, why ?? 'root and nft')
  if (why) return
  const packed = npm(['pack', '--pack-destination', tmp, '--json'])
  t.equal(packed.status, 0, `npm pack: ${packed.stderr}`)
  const tarball = join(tmp, 'legacyfw-0.1.0.tgz')
  t.ok(existsSync(tarball), 'the tarball')

  const files = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''))
  for (const c of COMMANDS) {
    t.ok(files.includes(`bin/${c}`), `bin/${c} packed`)
    t.ok(files.includes(`dist/entry-${c}.cjs`), `dist/entry-${c}.cjs packed`)
    t.ok(files.includes(`dist/entry-${c}.cjs.cache`), `its code cache packed`)
  }
  for (const page of MAN_PAGES) t.ok(files.includes(page), `${page} packed`)
  t.ok(files.includes('bin/boot.cjs') && files.includes('dist/entry-via-watch.cjs'), 'the boot loader and the via watcher')
  t.same(
    files.filter((f) => /^(src|test|fixtures|bench|scripts|docs|node_modules)\//.test(f) || /\.ts$/.test(f)),
    [],
    'nothing of the sources, tests or fixtures',
  )

  // No registry: every package legacyfw uses is bundled in dist/.
  const installed = npm(['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball])
  t.equal(installed.status, 0, `npm install -g: ${installed.stderr}`)
  t.notMatch(installed.stderr, /warn/, 'installs without a warning')
  t.same(readdirSync(join(prefix, 'bin')).sort(), [...COMMANDS].sort(), 'every command linked into the prefix')

  const fromPrefix = await runSession(join(prefix, 'bin'))
  const fromCheckout = await runSession(join(ROOT, 'bin'))
  for (const [i, r] of fromPrefix.entries()) {
    t.same(r, fromCheckout[i], `${r.argv}: as from the checkout`)
    t.notMatch(r.stderr, /Error:|ENOENT|\n {4}at /, `${r.argv}: no stack trace`)
  }
  t.match(fromPrefix[3]?.stdout, /MASQ +all +------ +192\.168\.1\.0\/24/, 'ipchains -L lists the rules')
  t.match(fromPrefix[7]?.stdout, /ACCEPT +tcp +------ .*10\.0\.0\.0\/8/, 'ipchains-restore loaded what ipchains-save printed')
  t.match(fromPrefix.at(-3)?.stdout, /^Chain input .*\nDENY +tcp .*\nstart\n$/s, 'legacyfw run served the script from the prefix')
  t.match(fromPrefix.at(-2)?.stdout, /table ip legacyfw_ipchains \{.*table ip legacyfw_ipfwadm \{/s, 'legacyfw translate printed both tables')
  t.equal(fromPrefix.at(-1)?.status, 0, 'legacyfw doctor from the prefix')
})

t.test('a read-only install directory costs the code cache, never an error', async (t) => {
  const why = requireRootAndNft()
  t.notOk(why, why ?? 'root and nft')
  if (why || !existsSync(pkg)) return t.fail('the package is installed (previous test)')
  const cache = join(pkg, 'dist/entry-ipchains.cjs.cache')
  rmSync(cache)
  // The package directory read-only in a private mount namespace; the host's mounts never change.
  const roArgv = withoutTapLoader([
    'unshare',
    '--mount',
    '--propagation',
    'private',
    'sh',
    '-c',
    'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && "$2" -h',
    'sh',
    pkg,
    join(prefix, 'bin/ipchains'),
  ])
  const ro = spawnSync(roArgv[0] as string, roArgv.slice(1), { encoding: 'utf8' })
  t.equal(ro.status, 0, 'ipchains -h runs')
  t.match(ro.stdout, /^ipchains 1\.3\.9, 17-Mar-1999\n/, 'and prints its help')
  t.equal(ro.stderr, '', 'no error about the cache')
  t.same(
    readdirSync(join(pkg, 'dist')).filter((f) => f.startsWith('entry-ipchains.cjs.cache')),
    [],
    'no cache written (nor a temporary one)',
  )
  const rw = spawnSync(join(prefix, 'bin/ipchains'), ['-h'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } })
  t.equal(rw.status, 0)
  t.ok(existsSync(cache), 'writable again: the next run writes the cache')
})

t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
