// ip_masq_irc: DCC SEND/CHAT addresses rewritten, a hole for the DCC
// connection: the kernel's irc helper (nf_conntrack_irc, nf_nat_irc).
import { kernelHelper } from './kernel-helper.ts'

export const renderIrc = kernelHelper('irc', 'tcp')
