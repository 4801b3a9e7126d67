// legacyfw proc against the kernel, beyond the goldens (fixtures/ipautofw/proc,
// fixtures/ipmasqadm/proc) and the lab (test/lab-autofw.test.ts): which
// ip_masquerade format a gateway gets, and the errors without privileges.
import t from 'tap'
import { projectPath } from '../src/runtime/project.ts'
import { inNetns, requireRootAndNft, withNetns } from './helpers/netns.ts'

const LEGACYFW = projectPath('bin', 'legacyfw')
const bin = (name: string): string => projectPath('bin', name)

const title = (ns: string): string => (inNetns(ns, [LEGACYFW, 'proc', 'ip_masquerade']).stdout.split('\n')[0] ?? '').trimEnd()

const missing = requireRootAndNft()
if (missing) t.fail(missing)
else {
  t.test('ip_masquerade: 2.0 on an ipfwadm gateway, 2.2 once ipchains is loaded too', async (t) => {
    await withNetns('proc', (ns) => {
      t.match(title(ns), /\(free=40960,40960,40960\)$/, 'no legacy table: 2.2')
      t.equal(inNetns(ns, [bin('ipfwadm'), '-F', '-a', 'm', '-S', '192.168.1.0/24', '-D', '0/0']).status, 0)
      t.match(title(ns), /\(free=4096,4096,4096\)$/, 'ipfwadm only: 2.0')
      t.equal(inNetns(ns, [bin('ipchains'), '-A', 'forward', '-j', 'MASQ']).status, 0)
      t.match(title(ns), /\(free=40960,40960,40960\)$/, 'ipfwadm and ipchains: 2.2')
      t.match(
        inNetns(ns, [LEGACYFW, 'proc', '--kernel', '2.0', 'ip_masquerade']).stdout,
        /^Prc .*\(free=4096,4096,4096\) *\n$/,
        '--kernel 2.0 chooses',
      )
    })
  })

  t.test('without privileges: nothing printed, the reason on stderr, exit 1', async (t) => {
    await withNetns('procuser', (ns) => {
      const asNobody = (name: string) => inNetns(ns, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', LEGACYFW, 'proc', name])
      for (const name of ['ip_autofw', 'ip_masq/autofw', 'ip_masq/portfw', 'ip_masq/mfw']) {
        const r = asNobody(name)
        t.same(
          [r.stdout, r.stderr, r.status],
          ['', `legacyfw proc: /proc/net/${name}: reading nftables needs CAP_NET_ADMIN (Operation not permitted)\n`, 1],
          name,
        )
      }
      const r = asNobody('ip_masquerade')
      t.same(
        [r.stdout, r.stderr, r.status],
        ['', 'legacyfw proc: /proc/net/ip_masquerade: cannot read the conntrack table (/proc/net/nf_conntrack or conntrack -L)\n', 1],
        'ip_masquerade',
      )
    })
  })
}
