// The legacy rule record stored in each nft rule's comment, so that listings
// read back exactly what was added. The readable form is ipchains syntax in
// one canonical spelling (numeric, defaults left out):
//     -s 192.168.1.0/24 -d 0/0 80 -p tcp -i ! eth0 -y -j ACCEPT -l
// nft limits comments to 128 bytes; a record that does not fit is stored
// as "=" + base64 of the packed struct instead.
import { stringToNumber, strtoul } from '../common/cnum.ts'
import { addrToDotted, bitsToMask, dottedToAddr, maskToBits } from '../common/inet.ts'
import { commentWord, fromCommentWord } from '../nft/escape.ts'
import { type PortRange, type Rule, EMPTY_RULE, F, INV, normaliseRule } from './model.ts'

export const COMMENT_MAX = 128

const addrText = (addr: number, mask: number): string => {
  if (mask === 0) return '0/0'
  const bits = maskToBits(mask)
  if (bits === 32) return addrToDotted(addr)
  return `${addrToDotted(addr)}/${bits === undefined ? addrToDotted(mask) : bits}`
}

const portsText = (range: PortRange): string => (range[0] === range[1] ? `${range[0]}` : `${range[0]}:${range[1]}`)
const isAll = (range: PortRange): boolean => range[0] === 0 && range[1] === 0xffff
const hexByte = (n: number): string => `0x${n.toString(16).toUpperCase().padStart(2, '0')}`

const endpoint = (option: string, addr: number, mask: number, addrInv: boolean, ports: PortRange, portInv: boolean): string[] => {
  const showPorts = !isAll(ports) || portInv
  if (mask === 0 && !addrInv && !showPorts) return []
  return [
    option,
    ...(addrInv ? ['!'] : []),
    addrText(addr, mask),
    ...(showPorts ? [...(portInv ? ['!'] : []), portsText(ports)] : []),
  ]
}

/** The readable canonical form. */
export const canonicalText = (rule: Rule): string => {
  const inv = (bit: number): boolean => (rule.invflg & bit) !== 0
  const not = (bit: number): string[] => (inv(bit) ? ['!'] : [])
  const words = [
    ...endpoint('-s', rule.src, rule.smsk, inv(INV.SRCIP), rule.spts, inv(INV.SRCPT)),
    ...endpoint('-d', rule.dst, rule.dmsk, inv(INV.DSTIP), rule.dpts, inv(INV.DSTPT)),
  ]
  if (rule.proto !== 0 || inv(INV.PROTO)) words.push('-p', ...not(INV.PROTO), protoWord(rule.proto))
  if (rule.vianame !== '' || inv(INV.VIA))
    words.push('-i', ...not(INV.VIA), commentWord(rule.vianame) + (rule.flg & F.WILDIF ? '+' : ''))
  if (rule.flg & F.TCPSYN) words.push(...not(INV.SYN), '-y')
  if (rule.flg & F.FRAG) words.push(...not(INV.FRAG), '-f')
  if (rule.label !== '') words.push('-j', commentWord(rule.label), ...(rule.redirpt ? [`${rule.redirpt}`] : []))
  if (rule.flg & F.PRN) words.push('-l')
  if (rule.flg & F.NETLINK) words.push('-o', ...(rule.outputsize !== 0xffff ? [`${rule.outputsize}`] : []))
  if (rule.flg & F.MARKABS) words.push('-m', `0x${rule.mark.toString(16)}`)
  else if (rule.mark !== 0) words.push('-m', `+0x${rule.mark.toString(16)}`)
  if (rule.tosand !== 0xff || rule.tosxor !== 0) words.push('-t', hexByte(rule.tosand), hexByte(rule.tosxor))
  return words.length ? words.join(' ') : '-s 0/0'
}

const PROTO_WORDS: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp' }
const protoWord = (proto: number): string => PROTO_WORDS[proto] ?? `${proto}`

export const encodeRule = (rule: Rule): string => {
  const text = canonicalText(rule)
  return new TextEncoder().encode(text).length <= COMMENT_MAX ? text : `=${packRule(rule)}`
}

export const decodeRule = (text: string): Rule | undefined =>
  text.startsWith('=') ? unpackRule(text.slice(1)) : parseCanonical(text)

const parseAddr = (text: string): { addr: number; mask: number } | undefined => {
  if (text === '0/0') return { addr: 0, mask: 0 }
  const [a, m] = text.split('/')
  const addr = dottedToAddr(a ?? '')
  if (addr === undefined) return undefined
  if (m === undefined) return { addr, mask: 0xffffffff }
  const mask = m.includes('.') ? dottedToAddr(m) : stringToNumber(m, 0, 32) === -1 ? undefined : bitsToMask(Number(m))
  return mask === undefined ? undefined : { addr, mask }
}

const parsePorts = (text: string | undefined): PortRange | undefined => {
  const m = /^(\d+)(?::(\d+))?$/.exec(text ?? '')
  if (!m) return undefined
  const lo = Number(m[1])
  return [lo, m[2] === undefined ? lo : Number(m[2])]
}

const parseCanonical = (text: string): Rule | undefined => {
  const words = text.split(' ')
  let rule: Rule = EMPTY_RULE
  let pendingNot = false
  const invert = (bit: number): void => {
    if (pendingNot) rule = { ...rule, invflg: rule.invflg | bit }
    pendingNot = false
  }
  const bang = (): void => {
    if (words[0] === '!') {
      words.shift()
      pendingNot = true
    }
  }
  const value = (): string => words.shift() ?? ''
  const setFlag = (flag: number, invBit: number): void => {
    rule = { ...rule, flg: rule.flg | flag }
    invert(invBit)
  }
  while (words.length) {
    const word = value()
    if (word === '!') {
      pendingNot = true
      continue
    }
    switch (word) {
      case '-s':
      case '-d': {
        const src = word === '-s'
        bang()
        invert(src ? INV.SRCIP : INV.DSTIP)
        const addr = parseAddr(value())
        if (!addr) return undefined
        rule = src ? { ...rule, src: addr.addr, smsk: addr.mask } : { ...rule, dst: addr.addr, dmsk: addr.mask }
        const portWord = words[0] === '!' ? words[1] : words[0]
        const ports = parsePorts(portWord)
        if (ports) {
          bang()
          invert(src ? INV.SRCPT : INV.DSTPT)
          words.shift()
          rule = src ? { ...rule, spts: ports } : { ...rule, dpts: ports }
        }
        break
      }
      case '-p': {
        bang()
        invert(INV.PROTO)
        const p = value()
        const proto = Object.entries(PROTO_WORDS).find(([, name]) => name === p)?.[0] ?? p
        if (!/^\d+$/.test(proto)) return undefined
        rule = { ...rule, proto: Number(proto) }
        break
      }
      case '-i': {
        bang()
        invert(INV.VIA)
        const raw = value()
        const wild = raw.endsWith('+')
        const name = fromCommentWord(wild ? raw.slice(0, -1) : raw)
        if (name === undefined) return undefined
        rule = { ...rule, vianame: name, flg: rule.flg | (wild ? F.WILDIF : 0) }
        break
      }
      case '-y':
        setFlag(F.TCPSYN, INV.SYN)
        break
      case '-f':
        setFlag(F.FRAG, INV.FRAG)
        break
      case '-j': {
        const label = fromCommentWord(value())
        if (label === undefined) return undefined
        const port = /^\d+$/.test(words[0] ?? '') ? Number(words.shift()) : 0
        rule = { ...rule, label, redirpt: port }
        break
      }
      case '-l':
        rule = { ...rule, flg: rule.flg | F.PRN }
        break
      case '-o': {
        const size = /^\d+$/.test(words[0] ?? '') ? Number(words.shift()) : 0xffff
        rule = { ...rule, flg: rule.flg | F.NETLINK, outputsize: size }
        break
      }
      case '-m': {
        const v = value()
        const relative = v.startsWith('+')
        const scan = strtoul(relative ? v.slice(1) : v, 16)
        rule = { ...rule, mark: scan.value, flg: rule.flg | (relative ? 0 : F.MARKABS) }
        break
      }
      case '-t':
        rule = { ...rule, tosand: strtoul(value(), 16).value, tosxor: strtoul(value(), 16).value }
        break
      default:
        return undefined
    }
  }
  return normaliseRule(rule)
}

// The dense form: the ip_fw fields big-endian, then the two names.
const packRule = (rule: Rule): string => {
  const bytes: number[] = []
  const put = (value: number, size: number): void => {
    for (let shift = (size - 1) * 8; shift >= 0; shift -= 8) bytes.push(Math.floor(value / 2 ** shift) & 0xff)
  }
  const putName = (name: string): void => {
    const encoded = [...new TextEncoder().encode(name)]
    bytes.push(encoded.length, ...encoded)
  }
  for (const v of [rule.src, rule.smsk, rule.dst, rule.dmsk, rule.mark]) put(v, 4)
  put(rule.proto, 2)
  put(rule.flg, 1)
  put(rule.invflg, 1)
  for (const v of [...rule.spts, ...rule.dpts, rule.redirpt, rule.outputsize]) put(v, 2)
  put(rule.tosand, 1)
  put(rule.tosxor, 1)
  putName(rule.vianame)
  putName(rule.label)
  return btoa(String.fromCharCode(...bytes))
}

const unpackRule = (text: string): Rule | undefined => {
  let bytes: number[]
  try {
    bytes = [...atob(text)].map((c) => c.charCodeAt(0))
  } catch {
    return undefined
  }
  let at = 0
  const get = (size: number): number => {
    let v = 0
    for (let i = 0; i < size; i++) v = v * 256 + (bytes[at++] ?? 0)
    return v
  }
  const getName = (): string => {
    const length = get(1)
    const name = new TextDecoder().decode(new Uint8Array(bytes.slice(at, at + length)))
    at += length
    return name
  }
  const [src, smsk, dst, dmsk, mark] = [get(4), get(4), get(4), get(4), get(4)]
  const proto = get(2)
  const flg = get(1)
  const invflg = get(1)
  const spts: PortRange = [get(2), get(2)]
  const dpts: PortRange = [get(2), get(2)]
  const redirpt = get(2)
  const outputsize = get(2)
  const tosand = get(1)
  const tosxor = get(1)
  const vianame = getName()
  const label = getName()
  if (at !== bytes.length) return undefined
  return { src, smsk, dst, dmsk, mark, proto, flg, invflg, spts, dpts, redirpt, outputsize, vianame, tosand, tosxor, label }
}
