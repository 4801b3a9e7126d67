// ip_masq_ftp through a gateway (lan 192.168.1.10 -- gw -- wan 203.0.113.50)
// whose script masquerades with `ipchains -A forward -s 192.168.1.0/24 -j
// MASQ` (forward policy DENY) and loads the helper with a modprobe line;
// vsftpd (its own config, in a lab namespace) serves, tools/ftpclient.py
// fetches a file. Each case runs the script with `legacyfw run`, then its
// `legacyfw translate` output loaded with `nft -f`, and shows the same
// transfer failing without the modprobe line:
// - active FTP to a server on 21 and on an extra ports= port, and on a port
//   whose connections `ipchains -m` marks with the module's mark= (without
//   the helper vsftpd refuses PORT 192,168,1,10,...: "500 Illegal PORT command");
// - passive FTP to a server behind `ipmasqadm portfw` with in_ports=, and to
//   one `ipmasqadm mfw` forwards by an `ipchains -m` mark with in_mark=
//   (without the helper the 227 reply names 192.168.1.10, which the outside
//   cannot reach).
// Checksum offload is off on the veths, so a wrong checksum is dropped.
import t from 'tap'
import { vsftpdConfig } from './helpers/vsftpd.mjs'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { projectPath } from '../src/runtime/project.ts'
import { GW_WAN, LAN_ADDRS, type Lab, type Place, WAN } from './helpers/lab.ts'
import { requireRootAndNft } from './helpers/netns.ts'
import { IPFWADM_MASQ_GATEWAY, eachWay, gatewayScript, resetGateway } from './helpers/alg-lab.ts'

const FTPCLIENT = projectPath('tools', 'ftpclient.py')
const LEGACYFW = projectPath('bin', 'legacyfw')
const IPCHAINS = projectPath('bin', 'ipchains')
const IPFWADM = projectPath('bin', 'ipfwadm')
const [LAN10] = LAN_ADDRS
const FILE = 'hello from the ftp server\n'

const missing =
  requireRootAndNft() ??
  (spawnSync('vsftpd', ['-v'], { stdio: 'ignore' }).error ? 'these tests need vsftpd (apt-get install vsftpd)' : undefined) ??
  (spawnSync('ethtool', ['--version']).status === 0 ? undefined : 'these tests need ethtool')

const tmp = mkdtempSync(join(tmpdir(), 'lfw-alg-ftp-'))
chmodSync(tmp, 0o755)
t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
mkdirSync(join(tmp, 'pub'), { mode: 0o755 })
mkdirSync(join(tmp, 'empty'), { mode: 0o755 })
writeFileSync(join(tmp, 'pub', 'hello.txt'), FILE, { mode: 0o644 })

/** A private vsftpd on ADDR:PORT (anonymous, read-only, the protocol logged). */
const startVsftpd = async (lab: Lab, place: Place, addr: string, port: number): Promise<string> => {
  const conf = join(tmp, `vsftpd-${place}-${port}.conf`)
  const log = join(tmp, `vsftpd-${place}-${port}.log`)
  writeFileSync(log, '')
  writeFileSync(conf, vsftpdConfig({ address: addr, port, anonRoot: join(tmp, 'pub'), emptyDir: join(tmp, 'empty'), logFile: log }))
  lab.background(place, ['vsftpd', conf])
  for (let i = 0; i < 50; i++) {
    if (lab.exec(place, ['ss', '-Hltn', `sport = :${port}`]).stdout.includes(`${addr}:${port}`)) return log
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`vsftpd on ${addr}:${port} did not start`)
}

const fetch = (lab: Lab, place: Place, host: string, port: number, mode: 'active' | 'pasv'): { ok: boolean; data?: string; error?: string } => {
  const r = lab.exec(place, ['python3', FTPCLIENT, host, String(port), mode])
  const line = r.stdout.trim().split('\n').pop() ?? ''
  if (!line.startsWith('{')) throw new Error(`ftpclient: ${r.stderr}`)
  return JSON.parse(line) as { ok: boolean; data?: string; error?: string }
}

interface Case {
  readonly name: string
  readonly module: string
  readonly extra?: readonly string[]
  readonly server: { place: Place; addr: string; port: number }
  readonly client: { place: Place; host: string; port: number; mode: 'active' | 'pasv' }
  /** What the server's log shows of the client's data-connection command with the helper. */
  readonly seen: RegExp
  readonly refused: RegExp
  /** legacyfw proc ip_masq/app after one transfer: the control connection bound. */
  readonly app: string
  /** The FTP data connection in `ipchains -M -L -n`. */
  readonly data: RegExp
  /** The masquerading commands of the gateway (default: ipchains). */
  readonly gateway?: readonly string[]
  /** The masquerading listing that shows the data connection (default: ipchains -M -L -n). */
  readonly listing?: readonly string[]
}

const CASES: readonly Case[] = [
  {
    name: 'active FTP to port 21',
    module: '/sbin/modprobe ip_masq_ftp ports=21,2121',
    server: { place: 'wan', addr: WAN, port: 21 },
    client: { place: 'lan', host: WAN, port: 21, mode: 'active' },
    seen: /"PORT 203,0,113,1,\d+,\d+"/,
    refused: /500 Illegal PORT command/,
    app: 'TCP  21      1        ftp              \nTCP  2121    0        ftp              \n',
    data: /^TCP  \S+ 192\.168\.1\.10 +203\.0\.113\.50 +(\d+) \(\1\) -> 20$/m,
  },
  {
    name: 'active FTP to the extra ports= port 2121',
    module: '/sbin/modprobe ip_masq_ftp ports=21,2121',
    server: { place: 'wan', addr: WAN, port: 2121 },
    client: { place: 'lan', host: WAN, port: 2121, mode: 'active' },
    seen: /"PORT 203,0,113,1,\d+,\d+"/,
    refused: /500 Illegal PORT command/,
    app: 'TCP  21      0        ftp              \nTCP  2121    1        ftp              \n',
    data: /^TCP  \S+ 192\.168\.1\.10 +203\.0\.113\.50 +(\d+) \(\1\) -> 20$/m,
  },
  {
    name: 'active FTP on a port marked by ipchains -m (mark=7)',
    module: 'modprobe ip_masq_ftp mark=7',
    extra: ['ipchains -A input -p tcp -s 192.168.1.0/24 -d 0/0 2121 -m 7'],
    server: { place: 'wan', addr: WAN, port: 2121 },
    client: { place: 'lan', host: WAN, port: 2121, mode: 'active' },
    seen: /"PORT 203,0,113,1,\d+,\d+"/,
    refused: /500 Illegal PORT command/,
    // A mark registration has no line of its own (the file lists ports).
    app: 'TCP  21      0        ftp              \n',
    data: /^TCP  \S+ 192\.168\.1\.10 +203\.0\.113\.50 +(\d+) \(\1\) -> 20$/m,
  },
  {
    name: 'active FTP through an ipfwadm (2.0) masquerading gateway',
    module: 'insmod ip_masq_ftp',
    gateway: IPFWADM_MASQ_GATEWAY,
    server: { place: 'wan', addr: WAN, port: 21 },
    client: { place: 'lan', host: WAN, port: 21, mode: 'active' },
    seen: /"PORT 203,0,113,1,\d+,\d+"/,
    refused: /500 Illegal PORT command/,
    app: 'TCP  21      1        ftp              \n',
    listing: [IPFWADM, '-M', '-l', '-n'],
    data: /^tcp +\S+ 192\.168\.1\.10 +203\.0\.113\.50 +(\d+) \(\1\) -> 20$/m,
  },
  {
    name: 'passive FTP to a port-forwarded server (in_ports=2121)',
    module: 'modprobe ip_masq_ftp in_ports=2121',
    extra: [`ipmasqadm portfw -a -P tcp -L ${GW_WAN} 2121 -R ${LAN10} 21`],
    server: { place: 'lan', addr: LAN10 as string, port: 21 },
    client: { place: 'wan', host: GW_WAN, port: 2121, mode: 'pasv' },
    seen: /"PASV"/,
    refused: /unreachable|timed out|refused/i,
    app: 'TCP  21      0        ftp              \nTCP  2121    1        ftp              \n',
    // The server's data port, not 21: the connection the 227 reply opened.
    data: /^TCP  \S+ 192\.168\.1\.10 +203\.0\.113\.50 +(?!21 )(\d+) \(\1\) -> \d+$/m,
  },
  {
    name: 'passive FTP to a server mfw forwards by the mark ipchains -m sets (in_mark=5)',
    module: 'modprobe ip_masq_ftp in_mark=5',
    extra: [`ipchains -A input -p tcp -d ${GW_WAN} 2121 -m 5`, `ipmasqadm mfw -I -m 5 -r ${LAN10} 21`],
    server: { place: 'lan', addr: LAN10 as string, port: 21 },
    client: { place: 'wan', host: GW_WAN, port: 2121, mode: 'pasv' },
    seen: /"PASV"/,
    refused: /unreachable|timed out|refused/i,
    // A mark registration has no line of its own (the file lists ports).
    app: 'TCP  21      0        ftp              \n',
    data: /^TCP  \S+ 192\.168\.1\.10 +203\.0\.113\.50 +(?!21 )(\d+) \(\1\) -> \d+$/m,
  },
]

if (missing) t.fail(missing)
else
  eachWay(t, async (t, lab, apply) => {
    for (const c of CASES)
      await t.test(c.name, async (t) => {
        const log = await startVsftpd(lab, c.server.place, c.server.addr, c.server.port)
        const run = (withModule: boolean) => {
          resetGateway(lab)
          writeFileSync(log, '')
          apply(t, lab, gatewayScript(tmp, c.name, c.module, withModule, c.extra, c.gateway))
          return fetch(lab, c.client.place, c.client.host, c.client.port, c.client.mode)
        }
        const without = run(false)
        t.notOk(without.ok, `fails without the module line: ${without.error}`)
        const serverSaw = readFileSync(log, 'utf8')
        if (c.client.mode === 'active') t.match(serverSaw, c.refused, 'vsftpd refused the unrewritten PORT')
        else t.match(without.error ?? '', c.refused)
        const withHelper = run(true)
        t.same(withHelper, { ok: true, data: FILE }, 'the file arrives with the module line')
        t.match(readFileSync(log, 'utf8'), c.seen)
        const app = lab.exec('gw', [LEGACYFW, 'proc', 'ip_masq/app']).stdout
        t.equal(app, `prot port    n_attach name             \n${c.app}`, 'legacyfw proc ip_masq/app: the bound control connection')
        const listing = c.listing ?? [IPCHAINS, '-M', '-L', '-n']
        t.match(lab.exec('gw', listing).stdout, c.data, 'the masquerading listing shows the data connection')
      })
  })
