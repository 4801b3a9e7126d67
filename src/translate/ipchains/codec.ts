// The legacy rule record stored in each nft rule's comment, so that listings
// read back exactly what was added. The readable form is ipchains syntax in
// one canonical spelling (numeric, defaults left out):
//     -s 192.168.1.0/24 -d 0/0 80 -p tcp -i ! eth0 -y -j ACCEPT -l
// nft limits comments to 128 bytes; a record that does not fit is stored
// as "=" + base64 of the packed struct instead.
import { strtoul } from '../common/cnum.ts'
import { Packer, Unpacker, addrText, fitsComment, parseAddrText } from '../common/record.ts'
import { commentWord, fromCommentWord } from '../nft/escape.ts'
import { type PortRange, type Rule, EMPTY_RULE, F, INV, normaliseRule } from './model.ts'

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
  return fitsComment(text) ? text : `=${packRule(rule)}`
}

// A table is decoded again for every command (hundreds in a row under
// legacyfw run). Rules are immutable, so one record always decodes to the
// same rule object: decoding is then a lookup, and the renderings cached by
// rule object (render.ts) carry over from one command to the next.
const decoded = new Map<string, Rule | undefined>()
const DECODED_MAX = 100_000

export const decodeRule = (text: string): Rule | undefined => {
  if (decoded.has(text)) return decoded.get(text)
  if (decoded.size >= DECODED_MAX) decoded.clear()
  const rule = text.startsWith('=') ? unpackRule(text.slice(1)) : parseCanonical(text)
  decoded.set(text, rule)
  return rule
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
        const addr = parseAddrText(value())
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
  const p = new Packer()
  for (const v of [rule.src, rule.smsk, rule.dst, rule.dmsk, rule.mark]) p.put(v, 4)
  p.put(rule.proto, 2).put(rule.flg, 1).put(rule.invflg, 1)
  for (const v of [...rule.spts, ...rule.dpts, rule.redirpt, rule.outputsize]) p.put(v, 2)
  return p.put(rule.tosand, 1).put(rule.tosxor, 1).putName(rule.vianame).putName(rule.label).base64()
}

const unpackRule = (text: string): Rule | undefined => {
  const u = Unpacker.from(text)
  if (!u) return undefined
  const [src, smsk, dst, dmsk, mark] = [u.get(4), u.get(4), u.get(4), u.get(4), u.get(4)]
  const proto = u.get(2)
  const flg = u.get(1)
  const invflg = u.get(1)
  const spts: PortRange = [u.get(2), u.get(2)]
  const dpts: PortRange = [u.get(2), u.get(2)]
  const redirpt = u.get(2)
  const outputsize = u.get(2)
  const tosand = u.get(1)
  const tosxor = u.get(1)
  const vianame = u.getName()
  const label = u.getName()
  if (!u.complete) return undefined
  return { src, smsk, dst, dmsk, mark, proto, flg, invflg, spts, dpts, redirpt, outputsize, vianame, tosand, tosxor, label }
}
