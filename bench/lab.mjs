// The namespaces the benches run in (the host is never touched):
//   lan 192.168.1.10 (eth0) -- lan0 192.168.1.1 gw 203.0.113.1 wan0 -- wan 203.0.113.50 (eth0)
// gw forwards; lan routes through it. Whatever fails to set up throws.
import { spawnSync } from 'node:child_process'

export const LAN = '192.168.1.10'
export const GW_LAN = '192.168.1.1'
export const GW_WAN = '203.0.113.1'
export const WAN = '203.0.113.50'

const run = (argv) => {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${r.stderr}`)
}

/** The three namespaces named `<prefix>-lan`, `-gw` and `-wan` (made by `up`, removed by `down`). */
export const benchLab = (prefix) => {
  const ns = { lan: `${prefix}-lan`, gw: `${prefix}-gw`, wan: `${prefix}-wan` }
  const inNs = (place, argv) => ['ip', 'netns', 'exec', ns[place], ...argv]
  /** With `wanRoutesLan`, wan routes 192.168.1.0/24 through gw (replies come back with no masquerading). */
  const up = ({ wanRoutesLan = false } = {}) => {
    for (const n of Object.values(ns)) {
      run(['ip', 'netns', 'add', n])
      run(['ip', '-n', n, 'link', 'set', 'lo', 'up'])
    }
    run(['ip', '-n', ns.gw, 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.lan])
    run(['ip', '-n', ns.gw, 'link', 'add', 'wan0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.wan])
    for (const [place, dev, addr] of [
      ['lan', 'eth0', LAN],
      ['gw', 'lan0', GW_LAN],
      ['gw', 'wan0', GW_WAN],
      ['wan', 'eth0', WAN],
    ]) {
      run(['ip', '-n', ns[place], 'addr', 'add', `${addr}/24`, 'dev', dev])
      run(['ip', '-n', ns[place], 'link', 'set', dev, 'up'])
    }
    run(['ip', '-n', ns.lan, 'route', 'add', 'default', 'via', GW_LAN])
    if (wanRoutesLan) run(['ip', '-n', ns.wan, 'route', 'add', '192.168.1.0/24', 'via', GW_WAN])
    run(inNs('gw', ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']))
  }
  const down = () => {
    for (const n of Object.values(ns)) spawnSync('ip', ['netns', 'del', n])
  }
  return { ns, inNs, up, down }
}
