// legacyfw demo (npm start as root): the IP-Masquerade HOWTO's 2.2
// "strong" rc.firewall, run unchanged through bin/ipchains in the gateway of
// a throwaway lan/gw/wan network, then real traffic through it.
import { GW_WAN, LAN_ADDRS, Lab, type Probe, WAN } from '../runtime/lab.ts'
import { runScript } from '../script/sandbox.ts'
import { EXAMPLE } from './legacyfw.ts'
import type { Io } from '../runtime/sys.ts'

const describe = (p: Probe): string => {
  switch (p.result) {
    case 'reply':
      return `answered; the server saw ${/peer=(\S+)/.exec(p.text ?? '')?.[1] ?? '?'}`
    case 'icmp':
      return `refused with ICMP type ${p.type} code ${p.code} from ${p.from}`
    case 'rst':
      return 'refused with a TCP reset'
    case 'timeout':
      return 'no answer (dropped)'
    default:
      return `error: ${p.error ?? '?'}`
  }
}

export const demo = async (io: Io): Promise<number> => {
  const say = (text: string): void => io.out(`${text}\n`)
  const shell = (title: string, args: string[], lab: Lab): void => {
    const r = lab.ipchains(...args)
    say(`\n[gw]# ipchains ${args.join(' ')}${title ? `    # ${title}` : ''}`)
    io.out(r.stdout + r.stderr)
  }
  const lab = new Lab()
  try {
    say('legacyfw demo: a Linux 2.2 firewall script on this kernel, in throwaway namespaces')
    say(`  lan ${LAN_ADDRS[0]} -- lan0 [gw 192.168.1.1 | ${GW_WAN}] wan0 -- wan ${WAN}`)
    lab.up()
    const wan = await lab.serve('wan', { tcp: [8080], udp: [9000] }, 60)
    const lan = await lab.serve('lan', { tcp: [22] }, 60)

    say(`\nRunning ${EXAMPLE} in gw (unchanged but for its four variables)...`)
    const run = await runScript(lab.ns.gw, EXAMPLE)
    const failed = run.calls.filter((c) => c.status !== 0)
    say(`  ${run.calls.length} ipchains commands, ${failed.length} failed; exit status ${run.status}`)
    say(`  recorded, not run on the host: ${run.stubs.map((s) => s.join(' ')).join('; ') || 'nothing'}`)
    if (run.toolStderr) io.out(run.toolStderr)

    shell('the rules, read back from the kernel', ['-L', '-n'], lab)

    say('\nTraffic through the gateway:')
    say(`  lan -> wan tcp/8080: ${describe(await lab.tcp('lan', WAN, 8080))}`)
    say(`  lan -> wan udp/9000: ${describe(await lab.udp('lan', WAN, 9000))}`)
    // The wan side has no route to the lan on purpose; give it one for a moment.
    lab.exec('wan', ['ip', 'route', 'add', `${LAN_ADDRS[0]}/32`, 'via', GW_WAN])
    say(`  wan -> lan tcp/22:   ${describe(await lab.tcp('wan', LAN_ADDRS[0], 22, { timeout: 2 }))}`)
    lab.exec('wan', ['ip', 'route', 'del', `${LAN_ADDRS[0]}/32`])
    const bytes = await lab.spoof('wan', { src: LAN_ADDRS[1], dst: GW_WAN, dport: 53, count: 3 })
    say(`  wan sends 3 datagrams (${bytes} bytes) claiming to come from ${LAN_ADDRS[1]}: logged and rejected (the spoof rule's counter below)`)
    say(`  the lan server saw ${lan.events.length} connection(s) from outside; the wan servers saw ${wan.events.length} from the lan`)

    shell('masqueraded connections, from the conntrack table', ['-M', '-L', '-n'], lab)
    shell('real packet and byte counters', ['-L', 'input', '-v', '-x', '-n'], lab)
    say('\nThe rules live in the nftables table `ip legacyfw_ipchains` (see `nft list table ip legacyfw_ipchains`).')
    say('The namespaces are removed now; the host was never touched.')
    return 0
  } finally {
    lab.down()
  }
}
