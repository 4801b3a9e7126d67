// /proc/net/ip_masq/app and ip_masq_app (translate/alg/proc.ts), and the
// masquerading table's helper-made entries (common/masq.ts), from
// `conntrack -L` lines seen in the lab after active and passive FTP.
import t from 'tap'
import { masqConnections, masqEntriesFromConntrack, NO_FORWARDING } from '../src/translate/common/masq.ts'
import { type LoadedApp, isParameterError, loadApp } from '../src/translate/alg/model.ts'
import { appProc } from '../src/translate/alg/proc.ts'
import { addrToDotted } from '../src/translate/common/inet.ts'

const CONNTRACK = `tcp      6 119 TIME_WAIT src=203.0.113.50 dst=203.0.113.1 sport=20 dport=40203 src=192.168.1.10 dst=203.0.113.50 sport=40203 dport=20 [ASSURED] mark=0 use=1
tcp      6 119 TIME_WAIT src=192.168.1.10 dst=203.0.113.50 sport=56244 dport=21 src=203.0.113.50 dst=203.0.113.1 sport=21 dport=61494 [ASSURED] mark=0 helper=ftp use=2
tcp      6 119 TIME_WAIT src=192.168.1.10 dst=203.0.113.50 sport=46768 dport=46373 src=203.0.113.50 dst=203.0.113.1 sport=46373 dport=46768 [ASSURED] mark=0 use=1
tcp      6 119 TIME_WAIT src=192.168.1.10 dst=203.0.113.50 sport=56254 dport=21 src=203.0.113.50 dst=203.0.113.1 sport=21 dport=62546 [ASSURED] mark=0 use=1
udp      17 29 src=192.168.1.10 dst=203.0.113.60 sport=7648 dport=7648 src=203.0.113.60 dst=203.0.113.1 sport=7648 dport=61000 mark=0 use=1
tcp      6 119 TIME_WAIT src=198.51.100.7 dst=203.0.113.1 sport=20 dport=40000 src=192.168.1.11 dst=198.51.100.7 sport=40000 dport=20 [ASSURED] mark=0 use=1
`

const load = (module: string, ...params: string[]): LoadedApp => {
  const r = loadApp(module, params)
  if (isParameterError(r)) throw new Error(module)
  return r
}

t.test('helper-made connections are masquerade entries', async (t) => {
  const entries = masqEntriesFromConntrack(CONNTRACK, NO_FORWARDING).map(
    (e) => `${e.proto} ${addrToDotted(e.src)}:${e.sport} ${addrToDotted(e.dst)}:${e.dport} (${e.mport})`,
  )
  t.same(entries, [
    'TCP 192.168.1.10:40203 203.0.113.50:20 (40203)', // active data: the server connected to the gateway
    'TCP 192.168.1.10:56244 203.0.113.50:21 (61494)',
    'TCP 192.168.1.10:46768 203.0.113.50:46373 (46768)', // passive data: the client connected out
    'TCP 192.168.1.10:56254 203.0.113.50:21 (62546)',
    'UDP 192.168.1.10:7648 203.0.113.60:7648 (61000)',
  ])
  t.notOk(
    entries.some((e) => e.includes('192.168.1.11')),
    'a DNAT between hosts no helper-bound entry joins is none (someone else’s forwarding)',
  )
})

t.test('ip_masq/app: the registered ports and their bound connections', async (t) => {
  const connections = masqConnections(CONNTRACK, NO_FORWARDING)
  const apps = [load('ip_masq_ftp', 'ports=21,2121'), load('ip_masq_cuseeme'), load('ip_masq_quake'), load('ip_masq_raudio')]
  t.equal(
    appProc(apps, connections, '2.2'),
    [
      'prot port    n_attach name             ',
      'TCP  21      1        ftp              ', // one control connection with the helper, one from before it was loaded
      'TCP  2121    0        ftp              ',
      'UDP  7648    1        cuseeme          ',
      'UDP  26000   0        Quake_26         ',
      'UDP  27000   0        Quake_27         ',
      'TCP  554     0        RealAudio        ',
      'TCP  7070    0        RealAudio        ',
      '',
    ].join('\n'),
  )
  t.match(appProc([load('ip_masq_quake')], [], '2.0'), 'UDP  26000   0        Quake            \n')
  t.equal(appProc([], [], '2.0'), 'prot port    n_attach name             \n')
})
