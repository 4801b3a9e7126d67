// The ipfwadm rule record stored in each nft rule's comment. The readable
// form is ipfwadm syntax in one canonical spelling, the verdict (firewall
// chains) or direction (accounting) first:
//     accept -P tcp -S 10.0.0.0/8 1024:65535 -D 0/0 80 -W eth0 -y -o
// Any record the readable form would not give back exactly (an unusual
// flag combination, a comment over nft's limit) is stored as "=" + base64
// of the packed struct ip_fw instead.
import { hexByte } from '../common/printf.ts'
import { Packer, Unpacker, addrText, fitsComment, parseAddrText } from '../common/record.ts'
import { commentWord, fromCommentWord } from '../nft/escape.ts'
import { FW, KIND, KIND_NAMES, type Rule } from './model.ts'
import { RULE_FLAG_LETTERS, flagOf } from './parse.ts'

const VERDICT_WORDS: readonly (readonly [string, number])[] = [
  ['redirect', FW.ACCEPT | FW.REDIR],
  ['masquerade', FW.ACCEPT | FW.MASQ],
  ['accept', FW.ACCEPT],
  ['reject', FW.ICMPRPL],
  ['deny', 0],
]
const DIRECTION_WORDS: readonly (readonly [string, number])[] = [
  ['in', FW.ACCTIN],
  ['out', FW.ACCTOUT],
  ['both', 0],
]
const VERDICT_BITS = FW.ACCEPT | FW.REDIR | FW.MASQ | FW.ICMPRPL
const DIRECTION_BITS = FW.ACCTIN | FW.ACCTOUT

const portWords = (ports: readonly number[], range: boolean): string[] =>
  range ? [`${ports[0]}:${ports[1]}`, ...ports.slice(2).map(String)] : ports.map(String)

const endpoint = (option: string, addr: number, mask: number, ports: readonly number[], range: boolean): string[] =>
  mask === 0 && ports.length === 0 ? [] : [option, addrText(addr, mask), ...portWords(ports, range)]

/** The readable canonical form; `accounting` picks the leading word. */
export const canonicalText = (rule: Rule, accounting: boolean): string => {
  const words = accounting ? DIRECTION_WORDS : VERDICT_WORDS
  const bits = accounting ? DIRECTION_BITS : VERDICT_BITS
  const lead = words.find(([, b]) => (rule.flg & bits) === b)?.[0] ?? '?'
  const kind = rule.flg & FW.KIND
  const out = [lead]
  if (kind !== KIND.ALL) out.push('-P', KIND_NAMES[kind] ?? '')
  out.push(...endpoint('-S', rule.src, rule.smsk, rule.pts.slice(0, rule.nsp), (rule.flg & FW.SRNG) !== 0))
  out.push(...endpoint('-D', rule.dst, rule.dmsk, rule.pts.slice(rule.nsp, rule.nsp + rule.ndp), (rule.flg & FW.DRNG) !== 0))
  if (rule.flg & FW.REDIR) out.push('-r', String(rule.pts[rule.nsp + rule.ndp] ?? 0))
  if (rule.via !== 0) out.push('-V', addrText(rule.via, 0xffffffff))
  if (rule.vianame !== '') out.push('-W', commentWord(rule.vianame))
  for (const letter of RULE_FLAG_LETTERS) if (rule.flg & flagOf(letter)) out.push(`-${letter}`)
  if (rule.tosand !== 0xff || rule.tosxor !== 0) out.push('-t', hexByte(rule.tosand), hexByte(rule.tosxor))
  return out.join(' ')
}

const sameRule = (a: Rule, b: Rule): boolean => JSON.stringify(a, Object.keys(a).sort()) === JSON.stringify(b, Object.keys(b).sort())

export const encodeRule = (rule: Rule, accounting: boolean): string => {
  const text = canonicalText(rule, accounting)
  const back = parseCanonical(text, accounting)
  return fitsComment(text) && back !== undefined && sameRule(back, rule) ? text : `=${packRule(rule)}`
}

export const decodeRule = (text: string, accounting: boolean): Rule | undefined =>
  text.startsWith('=') ? unpackRule(text.slice(1)) : parseCanonical(text, accounting)

const PORT_WORD = /^(\d+)(?::(\d+))?$/

/** Port words after -S/-D: the ports in slot order, and whether the first is a range. */
const takePorts = (words: string[]): { ports: number[]; range: boolean } | undefined => {
  const ports: number[] = []
  let range = false
  while (words.length && PORT_WORD.test(words[0] ?? '')) {
    const [, lo, hi] = PORT_WORD.exec(words.shift() ?? '') ?? []
    if (hi !== undefined) {
      if (ports.length) return undefined
      range = true
      ports.push(Number(lo), Number(hi))
    } else ports.push(Number(lo))
  }
  return { ports, range }
}

const EMPTY: Rule = { src: 0, smsk: 0, dst: 0, dmsk: 0, via: 0, vianame: '', flg: 0, nsp: 0, ndp: 0, pts: [], tosand: 0xff, tosxor: 0 }

const parseCanonical = (text: string, accounting: boolean): Rule | undefined => {
  const words = text.split(' ')
  const lead = (accounting ? DIRECTION_WORDS : VERDICT_WORDS).find(([w]) => w === words[0])
  if (!lead) return undefined
  words.shift()
  let flg = lead[1]
  let rule = EMPTY
  let sports: number[] = []
  let dports: number[] = []
  let redirect: number | undefined
  while (words.length) {
    const word = words.shift()
    const flag = RULE_FLAG_LETTERS.find((letter) => `-${letter}` === word)
    if (flag) {
      flg |= flagOf(flag)
      continue
    }
    switch (word) {
      case '-P': {
        const kind = KIND_NAMES.indexOf((words.shift() ?? '') as (typeof KIND_NAMES)[number])
        if (kind <= 0) return undefined
        flg |= kind
        break
      }
      case '-S':
      case '-D': {
        const addr = parseAddrText(words.shift() ?? '')
        const ports = takePorts(words)
        if (!addr || !ports) return undefined
        if (word === '-S') {
          rule = { ...rule, src: addr.addr, smsk: addr.mask }
          sports = ports.ports
          if (ports.range) flg |= FW.SRNG
        } else {
          rule = { ...rule, dst: addr.addr, dmsk: addr.mask }
          dports = ports.ports
          if (ports.range) flg |= FW.DRNG
        }
        break
      }
      case '-r':
        redirect = Number(words.shift())
        break
      case '-V': {
        const addr = parseAddrText(words.shift() ?? '')
        if (!addr) return undefined
        rule = { ...rule, via: addr.addr }
        break
      }
      case '-W': {
        const name = fromCommentWord(words.shift() ?? '')
        if (name === undefined) return undefined
        rule = { ...rule, vianame: name }
        break
      }
      case '-t':
        rule = { ...rule, tosand: Number(words.shift()), tosxor: Number(words.shift()) }
        break
      default:
        return undefined
    }
  }
  const pts = [...sports, ...dports, ...(redirect === undefined ? [] : [redirect])]
  if (pts.some((p) => !Number.isInteger(p) || p > 0xffff) || Number.isNaN(rule.tosand + rule.tosxor)) return undefined
  return { ...rule, flg, nsp: sports.length, ndp: dports.length, pts }
}

// The dense form: struct ip_fw's fields big-endian, then the name.
const packRule = (rule: Rule): string => {
  const p = new Packer()
  for (const v of [rule.src, rule.smsk, rule.dst, rule.dmsk, rule.via]) p.put(v, 4)
  p.put(rule.flg, 2).put(rule.nsp, 1).put(rule.ndp, 1).put(rule.pts.length, 1)
  for (const port of rule.pts) p.put(port, 2)
  return p.put(rule.tosand, 1).put(rule.tosxor, 1).putName(rule.vianame).base64()
}

const unpackRule = (text: string): Rule | undefined => {
  const u = Unpacker.from(text)
  if (!u) return undefined
  const [src, smsk, dst, dmsk, via] = [u.get(4), u.get(4), u.get(4), u.get(4), u.get(4)]
  const flg = u.get(2)
  const nsp = u.get(1)
  const ndp = u.get(1)
  const pts = Array.from({ length: u.get(1) }, () => u.get(2))
  const tosand = u.get(1)
  const tosxor = u.get(1)
  const vianame = u.getName()
  return u.complete ? { src, smsk, dst, dmsk, via, vianame, flg, nsp, ndp, pts, tosand, tosxor } : undefined
}
