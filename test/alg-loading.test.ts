// Loading the masquerading helpers as old scripts do (tools/modules.ts):
// modprobe/insmod/rmmod under `legacyfw run` and `translate`, and
// `legacyfw modprobe [-r]` (the modprobe.d install/remove entry point),
// change the owned table ip legacyfw_masqapp; other modules keep their
// behaviour.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inNetns, requireRootAndNft, withNetns, withoutTapLoader } from './helpers/netns.ts'

const ROOT = new URL('..', import.meta.url).pathname
const LEGACYFW = join(ROOT, 'bin/legacyfw')

const SCRIPT = `/sbin/modprobe ip_masq_ftp ports=21,2121; echo "ftp $?"
modprobe ip_masq_ftp ports=99; echo "again $?"
insmod ip_masq_ftp; echo "insmod again $?"
insmod /lib/modules/2.2.16/ipv4/ip_masq_irc.o foo=1; echo "irc bad $?"
modprobe -a ip_conntrack_irc ip_nat_irc; echo "irc $?"
modprobe ip_masq_cuseeme; rmmod ip_masq_cuseeme; echo "rmmod $?"
rmmod ip_masq_quake; echo "rmmod not $?"
modprobe ipchains; echo "ipchains $?"
`
const STDOUT = 'ftp 0\nagain 0\ninsmod again 1\nirc bad 1\nirc 0\nrmmod 0\nrmmod not 1\nipchains 0\n'
const STDERR =
  'insmod: a module named ip_masq_ftp already exists\n' +
  '/lib/modules/2.2.26/ipv4/ip_masq_irc.o: invalid parameter parm_foo\n' +
  'rmmod: module ip_masq_quake is not loaded\n'
const RECORDS = ['ftp ip_masq_ftp ports=21,2121', 'irc ip_conntrack_irc ports=6667', 'irc ip_nat_irc ports=6667']

const records = (listing: string): string[] => [...listing.matchAll(/continue comment "([^"]*)"/g)].map((m) => m[1] as string)

const tmp = mkdtempSync(join(tmpdir(), 'lfw-alg-loading-'))
t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
const script = join(tmp, 'modules.sh')
writeFileSync(script, SCRIPT)

t.test('translate: the helper table is in the file, other modules are recorded', async (t) => {
  const [cmd, ...args] = withoutTapLoader([LEGACYFW, 'translate', '--no-mirror', '--iface', 'eth0=192.168.1.1/24', script])
  const r = spawnSync(cmd as string, args, { encoding: 'utf8' })
  t.equal(r.status, 0)
  t.equal(records(r.stdout).join('\n'), RECORDS.join('\n'))
  t.match(r.stdout, '\t\tcontinue comment "ftp ip_masq_ftp ports=21,2121" # script:1\n')
  t.match(r.stdout, 'tcp dport { 21, 2121 } ct helper set "ftp_tcp"')
  t.match(r.stderr, `${STDOUT}${STDERR}`)
  t.match(r.stderr, 'script:8: recorded, not run: modprobe ipchains\n')
  t.notMatch(r.stderr, /recorded, not run: (modprobe|insmod|rmmod) .*(ip_masq|_irc)/, 'helper modules are not recorded: they are in effect')
})

const missing = requireRootAndNft()
if (missing) t.fail(missing)
else {
  t.test('legacyfw run: the same table in the kernel', async (t) => {
    await withNetns('alg-run', (ns) => {
      const r = inNetns(ns, [LEGACYFW, 'run', script])
      t.equal(r.stdout, STDOUT)
      t.equal(r.stderr, STDERR)
      const table = inNetns(ns, ['nft', 'list', 'table', 'ip', 'legacyfw_masqapp']).stdout
      t.same(records(table), RECORDS)
      t.match(table, /ct helper ftp_tcp \{\s+type "ftp" protocol tcp\s+l3proto ip/)
      t.match(table, /ct helper irc_tcp/)
      t.notMatch(table, /cuseeme/, 'rmmod removed it')
    })
  })

  t.test('legacyfw run: the nft-rule helpers load, and a second run changes the table in place', async (t) => {
    await withNetns('alg-nftrules', (ns) => {
      const first = join(tmp, 'nftrules.sh')
      writeFileSync(first, 'modprobe ip_masq_cuseeme\nmodprobe ip_masq_vdolive\nmodprobe ip_masq_quake ports=26000,27000,27500\n')
      t.match(inNetns(ns, [LEGACYFW, 'run', first]), { status: 0, stderr: '' })
      const table = inNetns(ns, ['nft', 'list', 'table', 'ip', 'legacyfw_masqapp']).stdout
      t.same(records(table), [
        'cuseeme ip_masq_cuseeme ports=7648',
        'vdolive ip_masq_vdolive ports=7000',
        'quake ip_masq_quake ports=26000,27000,27500',
      ])
      for (const part of [
        'set cuseeme_own',
        'map vdolive_hole',
        'map quake_servers',
        'jump cuseeme_in',
        'jump vdolive_learn',
        'udp dport { 26000, 27000, 27500 }',
      ])
        t.match(table, part, part)
      const second = join(tmp, 'nftrules-2.sh')
      writeFileSync(second, 'rmmod ip_masq_vdolive\nmodprobe ip_masq_ftp\n')
      t.match(inNetns(ns, [LEGACYFW, 'run', second]), { status: 0, stderr: '' })
      const after = inNetns(ns, ['nft', 'list', 'table', 'ip', 'legacyfw_masqapp']).stdout
      t.same(records(after), ['cuseeme ip_masq_cuseeme ports=7648', 'quake ip_masq_quake ports=26000,27000,27500', 'ftp ip_masq_ftp ports=21'])
      t.notMatch(after, 'vdolive')
    })
  })

  t.test('legacyfw modprobe [-r]: the modprobe.d entry point', async (t) => {
    await withNetns('alg-modprobe', (ns) => {
      const modprobe = (...args: string[]) => inNetns(ns, [LEGACYFW, 'modprobe', ...args])
      const listed = () => records(inNetns(ns, ['nft', 'list', 'chain', 'ip', 'legacyfw_masqapp', 'records']).stdout)
      t.match(modprobe('ip_masq_ftp', 'ports=21,2121'), { status: 0, stdout: '', stderr: '' })
      t.match(modprobe('nf_conntrack_sip', 'sip_direct_media=0'), { status: 0, stderr: '' })
      t.same(listed(), ['ftp ip_masq_ftp ports=21,2121', 'sip nf_conntrack_sip ports=5060 sip_direct_media=0'])
      t.match(modprobe('ip_masq_irc', 'ports=1,x'), {
        status: 1,
        stderr: /^\/lib\/modules\/2.2.26\/ipv4\/ip_masq_irc.o: invalid argument syntax for ports\n.*insmod ip_masq_irc failed\n$/s,
      })
      t.match(modprobe('-r', 'ip_masq_ftp'), { status: 0, stderr: '' })
      t.match(modprobe('-r', 'ip_masq_ftp'), { status: 0, stderr: '' }, 'removing a module not loaded is silent')
      t.same(listed(), ['sip nf_conntrack_sip ports=5060 sip_direct_media=0'])
      t.match(modprobe(), { status: 2, stderr: /no MODULE given/ })
    })
  })
}
