// legacyfw install --root / uninstall --root: the 2.2 gateway's layout
// below a temporary directory (both /usr layouts), units systemd-analyze
// accepts, man pages man renders without a warning, refusals that change
// nothing, and an uninstall that leaves exactly what was there before.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import {
  accessSync,
  chmodSync,
  constants,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { withoutTapLoader } from './helpers/netns.ts'
import { LEGACY_COMMANDS } from '../src/tools/registry.ts'
import { HELPER_MODULES } from '../src/translate/alg/model.ts'

const ROOT = new URL('..', import.meta.url).pathname
const LEGACYFW = join(ROOT, 'bin/legacyfw')
const tmp = mkdtempSync(join(tmpdir(), 'lfw-install-test-'))
const UNITS = ['legacyfw-boot.service', 'legacyfw-runtime.service']
const PAGES = [...LEGACY_COMMANDS, 'legacyfw'].map((c) => `${c}.8`)

const run = (argv: readonly string[], env: NodeJS.ProcessEnv = process.env) => {
  const full = withoutTapLoader(argv)
  return spawnSync(full[0] as string, full.slice(1), { encoding: 'utf8', env })
}
const legacyfw = (...args: string[]) => run([LEGACYFW, ...args])

/** Every path below dir (directories with a trailing /, links as "-> target"), sorted. */
const tree = (dir: string): string[] => {
  const out: string[] = []
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      const rel = relative(dir, p)
      if (e.isSymbolicLink()) out.push(`${rel} -> link`)
      else if (e.isDirectory()) {
        out.push(`${rel}/`)
        walk(p)
      } else out.push(rel)
    }
  }
  walk(dir)
  return out.sort()
}

const freshRoot = (name: string): string => {
  const dir = join(tmp, name)
  mkdirSync(dir)
  return dir
}

t.test('install --root into an empty directory: the 2.2 layout, then uninstall leaves it empty', async (t) => {
  const root = freshRoot('plain')
  // A strict umask changes nothing: the modes are those of any system.
  const r = run(['sh', '-c', 'umask 077 && exec "$@"', 'sh', LEGACYFW, 'install', '--root', root])
  t.equal(r.status, 0, `install: ${r.stderr}`)
  t.equal(r.stderr, '')
  const files = [
    ...LEGACY_COMMANDS.map((c) => `/sbin/${c}`),
    '/usr/sbin/legacyfw',
    '/etc/modprobe.d/legacyfw.conf',
    '/etc/default/legacyfw',
    ...UNITS.map((u) => `/usr/lib/systemd/system/${u}`),
    ...PAGES.map((p) => `/usr/share/man/man8/${p}`),
  ]
  t.same(r.stdout.split('\n').filter(Boolean).sort(), [...files].sort(), 'install names every file it laid down')
  t.same(
    tree(root).filter((p) => !p.endsWith('/')),
    [...files.map((f) => f.slice(1)), 'var/lib/legacyfw/manifest'].sort(),
    'those files and the manifest, nothing else',
  )

  // The commands: executable wrappers that run the package's bin with this node.
  for (const c of [...LEGACY_COMMANDS.map((c) => `sbin/${c}`), 'usr/sbin/legacyfw']) {
    t.doesNotThrow(() => accessSync(join(root, c), constants.X_OK), `${c} executable`)
    t.equal(statSync(join(root, c)).mode & 0o777, 0o755)
  }
  for (const d of tree(root).filter((p) => p.endsWith('/'))) t.equal(statSync(join(root, d)).mode & 0o777, 0o755, `${d} 0755`)
  t.equal(statSync(join(root, 'usr/share/man/man8/ipchains.8')).mode & 0o777, 0o644, 'pages 0644')
  const help = run([join(root, 'sbin/ipchains'), '-h'])
  t.match(help.stdout, /^ipchains 1\.3\.9, 17-Mar-1999\n\nUsage: ipchains -\[ADC\]/, '/sbin/ipchains runs, under its own name')
  t.match(run([join(root, 'sbin/ipfwadm'), '-h']).stdout, /^ipfwadm 2\.3\.0/, '/sbin/ipfwadm runs')
  t.match(run([join(root, 'usr/sbin/legacyfw'), '--help']).stdout, /legacyfw install \[--root DIR\]/, '/usr/sbin/legacyfw runs')

  // modprobe.d: an install and a remove line per helper module name, from the one list.
  const conf = readFileSync(join(root, 'etc/modprobe.d/legacyfw.conf'), 'utf8')
  const lines = conf.split('\n').filter((l) => l !== '' && !l.startsWith('#'))
  t.equal(lines.length, 2 * Object.keys(HELPER_MODULES).length, 'two lines per module')
  for (const m of Object.keys(HELPER_MODULES)) {
    t.ok(
      lines.some((l) => new RegExp(`^install ${m} (.*; )?/usr/sbin/legacyfw modprobe ${m} \\$CMDLINE_OPTS$`).test(l)),
      `install ${m}`,
    )
    t.ok(
      lines.some((l) => new RegExp(`^remove ${m} /usr/sbin/legacyfw modprobe -r ${m}( |$)`).test(l)),
      `remove ${m}`,
    )
  }
  t.ok(lines.includes('install ip_masq_ftp /usr/sbin/legacyfw modprobe ip_masq_ftp $CMDLINE_OPTS'))
  t.ok(lines.includes('remove ip_masq_ftp /usr/sbin/legacyfw modprobe -r ip_masq_ftp'))
  t.ok(
    lines.includes(
      'install nf_conntrack_ftp /sbin/modprobe -q --ignore-install nf_conntrack_ftp $CMDLINE_OPTS; /usr/sbin/legacyfw modprobe nf_conntrack_ftp $CMDLINE_OPTS',
    ),
    "a module modern kernels still have is loaded too (a ct helper object's own request for it comes through this line)",
  )
  t.ok(
    lines.includes(
      'remove nf_conntrack_ftp /usr/sbin/legacyfw modprobe -r nf_conntrack_ftp && { /sbin/modprobe -q -r --ignore-remove nf_conntrack_ftp || :; }',
    ),
  )
  for (const m of ['ip_masq_ftp', 'ip_masq_irc', 'ip_masq_raudio', 'ip_masq_cuseeme', 'ip_masq_vdolive', 'ip_masq_quake', 'ip_masq_sip'])
    t.ok(Object.hasOwn(HELPER_MODULES, m), `${m} sent to legacyfw`)
  for (const m of [
    'ip_conntrack_ftp',
    'ip_nat_ftp',
    'nf_conntrack_ftp',
    'nf_nat_ftp',
    'ip_conntrack_irc',
    'nf_nat_irc',
    'nf_conntrack_sip',
    'ip_nat_sip',
  ])
    t.ok(Object.hasOwn(HELPER_MODULES, m), `${m} sent to legacyfw`)

  // The units: systemd-analyze verify (no running systemd needed) with the root's files and man pages.
  const unit = (u: string) => readFileSync(join(root, 'usr/lib/systemd/system', u), 'utf8')
  t.match(unit('legacyfw-boot.service'), /^ExecStart=\/usr\/sbin\/legacyfw run \$\{LEGACYFW_SCRIPT\} \$LEGACYFW_ARGS$/m)
  t.match(unit('legacyfw-boot.service'), /^EnvironmentFile=\/etc\/default\/legacyfw$/m)
  t.match(unit('legacyfw-boot.service'), /^After=.*\bnftables\.service\b/m, 'after nftables.service (its flush ruleset)')
  t.match(unit('legacyfw-boot.service'), /^Before=network-pre\.target\b/m, 'before the network comes up')
  t.match(unit('legacyfw-runtime.service'), /^ExecStart=\/usr\/sbin\/legacyfw runtime$/m)
  t.match(unit('legacyfw-runtime.service'), /^After=.*\bnftables\.service\b/m)
  const verify = run(['systemd-analyze', 'verify', `--root=${root}`, ...UNITS.map((u) => `/usr/lib/systemd/system/${u}`)], {
    ...process.env,
    MANPATH: join(root, 'usr/share/man'),
    SYSTEMD_LOG_LEVEL: 'notice',
  })
  t.equal(verify.status, 0, 'systemd-analyze verify accepts the units')
  t.equal(`${verify.stdout}${verify.stderr}`, '', 'without a word')
  const broken = join(root, 'usr/lib/systemd/system/legacyfw-broken.service')
  writeFileSync(broken, unit('legacyfw-boot.service').replace('ExecStart=/usr/sbin/legacyfw', 'ExecStart=/usr/sbin/nolegacyfw'))
  t.not(
    run(['systemd-analyze', 'verify', `--root=${root}`, '/usr/lib/systemd/system/legacyfw-broken.service']).status,
    0,
    'verify would catch a bad command',
  )
  rmSync(broken)

  for (const page of PAGES) {
    const man = run(['man', '--warnings', '-l', join(root, 'usr/share/man/man8', page)], { ...process.env, MANWIDTH: '80', LANG: 'C.UTF-8' })
    t.equal(man.status, 0, `man ${page}`)
    t.equal(man.stderr, '', `${page} renders without a warning`)
    t.match(man.stdout, /^NAME\n/m, `${page} has its NAME section`)
  }
  const bad = join(tmp, 'bad.8')
  writeFileSync(bad, '.TH BAD 8\n.SH NAME\nbad \\- x\n.XX undefined macro\n')
  t.match(run(['man', '--warnings', '-l', bad]).stderr, /warning/, 'man --warnings would report a faulty page')

  const again = legacyfw('install', '--root', root)
  t.equal(again.status, 1, 'a second install refuses')
  t.match(again.stderr, /^legacyfw install: already installed below .*; legacyfw uninstall first\n$/)

  const un = legacyfw('uninstall', '--root', root)
  t.equal(un.status, 0, `uninstall: ${un.stderr}`)
  t.same(readdirSync(root), [], 'uninstall leaves the directory empty')
  const none = legacyfw('uninstall', '--root', root)
  t.equal(none.status, 1)
  t.match(none.stderr, /^legacyfw uninstall: nothing installed below .* \(no \/var\/lib\/legacyfw\/manifest\)\n$/)
})

t.test('merged /usr (/sbin -> usr/sbin): the commands go to /usr/sbin; uninstall restores the tree as it was', async (t) => {
  const root = freshRoot('merged')
  mkdirSync(join(root, 'usr/sbin'), { recursive: true })
  symlinkSync('usr/sbin', join(root, 'sbin'))
  mkdirSync(join(root, 'etc/modprobe.d'), { recursive: true })
  writeFileSync(join(root, 'etc/modprobe.d/other.conf'), 'options foo bar=1\n')
  const before = tree(root)
  const r = legacyfw('install', `--root=${root}`)
  t.equal(r.status, 0, r.stderr)
  for (const c of [...LEGACY_COMMANDS, 'legacyfw']) t.ok(statSync(join(root, 'usr/sbin', c)).isFile(), `/usr/sbin/${c}`)
  t.match(run([join(root, 'sbin/ipchains'), '-V']).stdout, /^ipchains 1\.3\.9/, 'reached through /sbin as scripts call it')
  t.equal(legacyfw('uninstall', '--root', root).status, 0)
  t.same(tree(root), before, 'only what install laid down is gone')
})

t.test('an existing file is never overwritten: one line, nothing changed', async (t) => {
  const root = freshRoot('taken')
  mkdirSync(join(root, 'sbin'))
  writeFileSync(join(root, 'sbin/ipfwadm'), '#!/bin/sh\necho the real ipfwadm\n')
  const before = tree(root)
  const r = legacyfw('install', '--root', root)
  t.equal(r.status, 1)
  t.equal(r.stdout, '')
  t.equal(r.stderr, "legacyfw install: /sbin/ipfwadm exists and is not legacyfw's; move it away first\n")
  t.same(tree(root), before, 'nothing changed')
  t.equal(readFileSync(join(root, 'sbin/ipfwadm'), 'utf8'), '#!/bin/sh\necho the real ipfwadm\n')
})

t.test('a failure half-way (no right to write /usr) undoes what install made: one line, nothing changed', async (t) => {
  const root = freshRoot('halfway')
  chmodSync(tmp, 0o711)
  chmodSync(root, 0o777)
  mkdirSync(join(root, 'usr'), { mode: 0o555 })
  const before = tree(root)
  const r = run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', LEGACYFW, 'install', '--root', root])
  t.equal(r.status, 1)
  t.match(r.stderr, /^legacyfw install: EACCES: permission denied, mkdir '.*\/usr\/sbin'; nothing was changed\n$/)
  t.same(tree(root), before, '/sbin, made before /usr/sbin failed, is gone again')
  chmodSync(tmp, 0o700)
  const hidden = run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', LEGACYFW, 'uninstall', '--root', root])
  t.same(
    [hidden.stderr, hidden.status],
    [`legacyfw uninstall: EACCES: permission denied, open '${root}/var/lib/legacyfw/manifest'\n`, 1],
    'a root it cannot reach',
  )
  const unreachable = run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', LEGACYFW, 'install', '--root', root])
  t.match(unreachable.stderr, /^legacyfw install: EACCES: permission denied, \w+ '.*'\n$/, 'one line, no stack trace')
  t.equal(unreachable.status, 1)
})

t.test("the boot script's settings are the admin's: kept by install and by uninstall once edited", async (t) => {
  const root = freshRoot('config')
  t.equal(legacyfw('install', '--root', root).status, 0)
  const config = join(root, 'etc/default/legacyfw')
  writeFileSync(config, 'LEGACYFW_SCRIPT=/etc/init.d/firewall\nLEGACYFW_ARGS=start\n')
  const un = legacyfw('uninstall', '--root', root)
  t.equal(un.status, 0)
  t.equal(un.stderr, 'legacyfw uninstall: /etc/default/legacyfw changed since install; kept\n')
  t.same(tree(root), ['etc/', 'etc/default/', 'etc/default/legacyfw'], 'everything else is gone')
  const re = legacyfw('install', '--root', root)
  t.equal(re.status, 0, 'installs again')
  t.match(re.stdout, /^\/etc\/default\/legacyfw \(kept as it was\)$/m)
  t.equal(readFileSync(config, 'utf8'), 'LEGACYFW_SCRIPT=/etc/init.d/firewall\nLEGACYFW_ARGS=start\n', 'the edited settings stay')
  t.equal(legacyfw('uninstall', '--root', root).status, 0)
  t.same(tree(root), ['etc/', 'etc/default/', 'etc/default/legacyfw'], "the settings were not install's to remove")
})

t.test('bad command lines', async (t) => {
  for (const args of [
    ['install', 'extra'],
    ['uninstall', '--bogus'],
    ['install', '--root'],
  ]) {
    const r = legacyfw(...args)
    t.equal(r.status, 2, args.join(' '))
    t.match(r.stderr, /^legacyfw (un)?install: .* \(legacyfw --help tells more\)\n$/)
  }
})

t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
