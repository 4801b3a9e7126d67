// The legacy rule record stored in each nft rule's comment, so that listings
// read back exactly what was added. The readable form is ipchains syntax in
// one canonical spelling (numeric, defaults left out):
//     -s 192.168.1.0/24 -d 0/0 80 -p tcp -i ! eth0 -y -j ACCEPT -l
// nft limits comments to 128 bytes; a record that does not fit is stored
// as "=" + base64 of the packed struct instead.
import { stringToNumber } from '../common/cnum.ts'
import { Exit } from '../common/exit.ts'
import { Packer, Unpacker, addrText, fitsComment, parseAddrText } from '../common/record.ts'
import { commentWord, fromCommentWord } from '../nft/escape.ts'
import { type PortRange, type Rule, ALL_PORTS, EMPTY_RULE, normaliseRule } from './model.ts'
import { type Invocation, OPT, parseInvocation } from './parse.ts'
import { type Spelling, ruleWords } from './words.ts'

const PROTO_WORDS: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp' }

const RECORD: Spelling = {
  order: ['s', 'd', 'p', 'i', 'y', 'f', 'j', 'l', 'o', 'm', 't'],
  omitsAnywhere: true,
  address: addrText,
  ports: (range) => (range[0] === range[1] ? `${range[0]}` : `${range[0]}:${range[1]}`),
  proto: (proto) => PROTO_WORDS[proto] ?? `${proto}`,
  name: commentWord,
}

/** The readable canonical form. */
export const canonicalText = (rule: Rule): string => {
  const words = ruleWords(rule, RECORD)
  return words.length ? words.join(' ') : '-s 0/0'
}

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

const recordPorts = (word: string | undefined): PortRange | undefined => {
  if (word === undefined) return ALL_PORTS
  const m = /^(\d+)(?::(\d+))?$/.exec(word)
  if (!m) return undefined
  const lo = Number(m[1])
  return [lo, m[2] === undefined ? lo : Number(m[2])]
}

/** The rule of a record the getopt loop has read; its values are all numeric. */
const recordRule = (inv: Invocation): Rule | undefined => {
  const src = parseAddrText(inv.shostnetworkmask ?? '0/0')
  const dst = parseAddrText(inv.dhostnetworkmask ?? '0/0')
  const spts = recordPorts(inv.srcpts)
  const dpts = recordPorts(inv.dstpts)
  const redirpt = stringToNumber(inv.rport, 0, 65535)
  if (!src || !dst || !spts || !dpts || redirpt === -1) return undefined
  const tos = (inv.options & OPT.TOS) !== 0
  return normaliseRule({
    ...EMPTY_RULE,
    src: src.addr,
    smsk: src.mask,
    dst: dst.addr,
    dmsk: dst.mask,
    mark: inv.mark,
    proto: inv.proto,
    flg: inv.flg,
    invflg: inv.invflg,
    spts,
    dpts,
    redirpt,
    outputsize: inv.outputsize,
    vianame: inv.vianame,
    tosand: tos ? inv.tosand : 0xff,
    tosxor: tos ? inv.tosxor : 0x00,
    label: inv.jumpto ?? '',
  })
}

// The record is ipchains syntax, so ipchains' own getopt loop reads it back,
// as the arguments of an append.
const parseCanonical = (text: string): Rule | undefined => {
  const words = text.split(' ').map(fromCommentWord)
  if (!words.every((w): w is string => w !== undefined)) return undefined
  try {
    return recordRule(parseInvocation('ipchains', ['-A', 'record', ...words], () => undefined))
  } catch (e) {
    if (e instanceof Exit) return undefined
    throw e
  }
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
