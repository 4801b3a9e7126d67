// legacyfw doctor: what legacyfw needs from the host, one line each,
// present or missing and how to get it. The kernel features are tried for
// real, by loading a table in a throwaway network namespace (a user
// namespace too when not root), never in the caller's. Exit 1 when
// something required is missing.
import { spawnSync } from 'node:child_process'
import { lstatSync } from 'node:fs'
import type { Io } from '../runtime/sys.ts'

type State = 'present' | 'missing' | 'unchecked'

interface Finding {
  readonly state: State
  readonly detail: string
}

interface Check {
  readonly name: string
  /** What needs it; a required check missing makes doctor fail. */
  readonly neededBy: string
  readonly required: boolean
  /** How to get it when it is missing. */
  readonly fix: string
  readonly run: () => Finding
}

const present = (detail: string): Finding => ({ state: 'present', detail })
const missing = (detail: string): Finding => ({ state: 'missing', detail })

interface Ran {
  readonly status: number | null
  readonly out: string
  /** The program could not be started (not on PATH). */
  readonly absent: boolean
}

const run = (argv: readonly string[], input?: string): Ran => {
  const r = spawnSync(argv[0] as string, argv.slice(1), { input, encoding: 'utf8', timeout: 10_000 })
  const absent = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT'
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim(), absent }
}

const firstLine = (text: string): string => text.split('\n')[0] ?? ''

/** argv run in a throwaway network namespace: as root a plain one, otherwise inside a user namespace. */
const throwaway = (argv: readonly string[]): string[] => [
  'unshare',
  ...(process.getuid?.() === 0 ? [] : ['--user', '--map-root-user']),
  '--net',
  ...argv,
]

/** Loads `ruleset` with nft in a throwaway namespace: present, or missing with nft's first error line. */
const loads = (ruleset: string, what: string): Finding => {
  const r = run(throwaway(['nft', '-f', '-']), ruleset)
  if (r.absent) return { state: 'unchecked', detail: 'unshare (util-linux) not found' }
  if (r.status === 0) return present(what)
  if (run(['nft', '--version']).absent) return { state: 'unchecked', detail: 'needs nft' }
  if (/unshare:/.test(r.out)) return { state: 'unchecked', detail: `no throwaway namespace: ${firstLine(r.out)}` }
  return missing(`${what}: ${firstLine(r.out.replace(/^\/dev\/stdin:\S+ /, '')) || `nft exited ${r.status}`}`)
}

const inTable = (body: string): string => `table ip legacyfw_doctor {\n${body}\n}\n`
const chain = (hook: string, rule: string): string => `chain c {\n${hook}\n${rule}\n}`

const HELPERS: readonly (readonly [string, 'tcp' | 'udp'])[] = [
  ['ftp', 'tcp'],
  ['irc', 'tcp'],
  ['sip', 'udp'],
  ['sip', 'tcp'],
]

const ctHelpers = (): Finding => {
  const findings = HELPERS.map(([name, proto]) => ({
    helper: `${name}/${proto}`,
    f: loads(inTable(`ct helper h {\n type "${name}" protocol ${proto}\n }`), `${name}/${proto}`),
  }))
  const unchecked = findings.find((x) => x.f.state === 'unchecked')
  if (unchecked) return unchecked.f
  const absent = findings.filter((x) => x.f.state === 'missing').map((x) => x.helper)
  const all = findings.map((x) => x.helper).join(' ')
  return absent.length === 0 ? present(`ct helper objects ${all}`) : missing(`the kernel refuses ct helper ${absent.join(' ')}`)
}

const isSocket = (path: string): boolean => lstatSync(path, { throwIfNoEntry: false })?.isSocket() ?? false

const CHECKS: readonly Check[] = [
  {
    name: 'nft',
    neededBy: 'every command',
    required: true,
    fix: 'apt-get install nftables',
    run: () => {
      const r = run(['nft', '--version'])
      return r.absent ? missing('not on PATH') : r.status === 0 ? present(firstLine(r.out)) : missing(firstLine(r.out))
    },
  },
  {
    name: 'nf_tables',
    neededBy: 'every command',
    required: true,
    fix: 'a kernel with CONFIG_NF_TABLES and CONFIG_NF_TABLES_IPV4',
    run: () => loads(inTable(chain('type filter hook prerouting priority -150', 'counter')), 'a filter table loads'),
  },
  {
    name: 'conntrack',
    neededBy: 'MASQ, REDIRECT, masquerade, portfw, autofw',
    required: true,
    fix: 'a kernel with CONFIG_NF_CONNTRACK, CONFIG_NF_NAT and CONFIG_NFT_MASQ',
    run: () =>
      loads(
        inTable(chain('type nat hook postrouting priority 100', 'meta l4proto tcp ct state new masquerade to :61000-65095')),
        'conntrack and NAT (masquerade) load',
      ),
  },
  {
    name: 'conntrack list',
    neededBy: 'ipchains -M -L, ipfwadm -M -l, legacyfw proc ip_masquerade',
    required: false,
    fix: 'apt-get install conntrack',
    run: () => {
      if (lstatSync('/proc/net/nf_conntrack', { throwIfNoEntry: false })) return present('/proc/net/nf_conntrack')
      const r = run(['conntrack', '--version'])
      return r.absent ? missing('no /proc/net/nf_conntrack and no conntrack on PATH') : present(firstLine(r.out))
    },
  },
  {
    name: 'ct helpers',
    neededBy: 'the ftp, irc and sip masquerading helpers (modprobe ip_masq_ftp, ...)',
    required: false,
    fix: 'a kernel with CONFIG_NF_CONNTRACK_FTP, _IRC, _SIP and CONFIG_NFT_CT',
    run: ctHelpers,
  },
  {
    name: 'NFLOG',
    neededBy: 'the log lines of ipchains -l and ipfwadm -o rules',
    required: false,
    fix: 'a kernel with CONFIG_NETFILTER_NETLINK_LOG and CONFIG_NFT_LOG',
    run: () => loads(inTable(chain('type filter hook prerouting priority 0', 'log prefix "doctor" group 1')), 'log group (NFLOG) loads'),
  },
  {
    name: 'user namespaces',
    neededBy: 'legacyfw translate (its sealed sandbox)',
    required: false,
    fix: 'util-linux, and sysctl user.max_user_namespaces above 0 (kernel.unprivileged_userns_clone=1 where it exists)',
    run: () => {
      // As translate does: an unprivileged id makes the user namespace (as root, nobody's).
      const asNobody = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : []
      const ns = [
        'unshare',
        '--user',
        '--map-root-user',
        '--net',
        '--mount',
        '--uts',
        '--ipc',
        '--pid',
        '--fork',
        '--mount-proc',
        process.execPath,
        '-e',
        '0',
      ]
      const r = run([...asNobody, ...ns])
      return r.absent
        ? missing('setpriv or unshare (util-linux) not found')
        : r.status === 0
          ? present('an unprivileged user namespace with its own network, mounts and PIDs')
          : missing(firstLine(r.out) || `unshare exited ${r.status}`)
    },
  },
  {
    name: 'syslog socket',
    neededBy: 'the log lines (legacyfw runtime)',
    required: false,
    fix: 'apt-get install rsyslog (or run systemd-journald), which provide /dev/log',
    run: () => (isSocket('/dev/log') ? present('/dev/log') : missing('no socket at /dev/log')),
  },
  {
    name: 'perl',
    neededBy: 'legacyfw runtime (the log lines: it opens its netlink and syslog sockets through perl)',
    required: false,
    fix: 'apt-get install perl-base',
    run: () => {
      const r = run(['perl', '-e', 'print "perl $^V"'])
      return r.absent ? missing('not on PATH') : r.status === 0 ? present(r.out) : missing(firstLine(r.out))
    },
  },
  {
    name: 'iptables-nft',
    neededBy: 'RealAudio PNA with its records in any order (xt NFQUEUE, legacyfw runtime)',
    required: false,
    fix: 'apt-get install iptables, and a kernel with CONFIG_NFT_COMPAT and CONFIG_NETFILTER_XT_TARGET_NFQUEUE',
    run: () => {
      const r = run(
        throwaway(['iptables-nft', '-t', 'mangle', '-A', 'PREROUTING', '-p', 'tcp', '--dport', '7070', '-j', 'NFQUEUE', '--queue-bypass']),
      )
      if (r.status === 0) return present('xt NFQUEUE loads')
      return r.absent || /failed to execute iptables-nft/.test(r.out) ? missing('not on PATH') : missing(`xt NFQUEUE: ${firstLine(r.out)}`)
    },
  },
  {
    name: 'bash',
    neededBy: 'legacyfw run and translate, legacyfw-boot.service',
    required: true,
    fix: 'apt-get install bash',
    run: () => {
      const r = run(['bash', '--version'])
      return r.absent ? missing('not on PATH') : present(firstLine(r.out))
    },
  },
]

const NAME_WIDTH = Math.max(...CHECKS.map((c) => c.name.length)) + 2

const line = (c: Check, f: Finding): string => {
  const head = `${f.state.padEnd(10)}${c.name.padEnd(NAME_WIDTH)}${f.detail}`
  if (f.state !== 'missing') return `${head}\n`
  return `${head}; ${c.required ? 'required' : 'needed'} by ${c.neededBy}; to get it: ${c.fix}\n`
}

export const doctorMain = (argv: readonly string[], io: Io): number => {
  if (argv.length > 0) {
    io.err(`legacyfw doctor: unexpected ${argv[0]} (legacyfw --help tells more)\n`)
    return 2
  }
  let failed = false
  for (const c of CHECKS) {
    const f = c.run()
    if (f.state === 'missing' && c.required) failed = true
    io.out(line(c, f))
  }
  return failed ? 1 : 0
}
