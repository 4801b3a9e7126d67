// npm start: `legacyfw demo` as root runs the bundled 2.2 rc.firewall in a
// lab and sends traffic through it; `legacyfw translate` prints the same
// firewall as an nft file, as root and as an ordinary user.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { requireRootAndNft, withoutTapLoader } from './helpers/netns.ts'

const LEGACYFW = new URL('../bin/legacyfw', import.meta.url).pathname
const EXAMPLE = new URL('../examples/rc.firewall-2.2-strong.sh', import.meta.url).pathname

const run = (argv: string[]) => spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', cwd: new URL('..', import.meta.url).pathname })

const missing = requireRootAndNft()
if (missing) t.fail(missing)
else {
  t.test('legacyfw demo', async (t) => {
    const r = run(withoutTapLoader([LEGACYFW, 'demo']))
    t.equal(r.status, 0, r.stderr)
    t.match(r.stdout, /20 ipchains commands, 0 failed; exit status 0/)
    t.match(r.stdout, /recorded, not run on the host: \/sbin\/depmod -a; \/sbin\/modprobe ip_masq_ftp/)
    const seen = [...r.stdout.matchAll(/lan -> wan (?:tcp|udp)\/\d+: answered; the server saw 203\.0\.113\.1:(\d+)/g)].map((m) => Number(m[1]))
    t.equal(seen.length, 2, 'TCP and UDP reached wan, masqueraded')
    t.ok(
      seen.every((p) => p >= 61000 && p <= 65095),
      `from masquerade ports ${seen}`,
    )
    t.match(r.stdout, /wan -> lan tcp\/22: {3}refused with ICMP type 3 code 3 from 203\.0\.113\.1/)
    t.match(r.stdout, /the lan server saw 0 connection\(s\) from outside/)
    t.match(r.stdout, /\n +3 +132 REJECT +all +----l- .* wan0 +192\.168\.1\.0\/24/, 'the spoofed datagrams were counted exactly')
    const leftover = new RegExp(`lfw-(lan|gw|wan)-${r.pid}-`)
    t.notMatch(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout, leftover, 'no namespace of the demo left behind')
  })

  t.test('legacyfw translate, as root and as an ordinary user', async (t) => {
    const root = run(withoutTapLoader([LEGACYFW, 'translate', EXAMPLE]))
    t.equal(root.status, 0, root.stderr)
    t.match(root.stdout, /\ntable ip legacyfw_ipchains \{\n/)
    t.match(
      root.stdout,
      /iifname "wan0" ip saddr 192\.168\.1\.0\/24 counter name "r\d+" log prefix "Packet log: input REJECT \(#2\)" group 22 reject with icmp type port-unreachable/,
    )
    t.match(root.stdout, /ct label 10 meta l4proto \{ tcp, udp, icmp \} masquerade to :61000-65095/)
    const user = run(['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', ...withoutTapLoader([LEGACYFW, 'translate', EXAMPLE])])
    t.equal(user.status, 0, user.stderr)
    t.equal(user.stdout, root.stdout, 'identical nft file without root (user namespaces)')
    const check = spawnSync('unshare', ['-n', 'nft', '-c', '-f', '-'], { input: root.stdout, encoding: 'utf8' })
    t.equal(check.status, 0, `loads with nft -c: ${check.stderr}`)
  })
}
