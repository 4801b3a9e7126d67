// ip_masq_sip (this project's 2.2-style name; nf_conntrack_sip in 2.6):
// SDP c=/o=, Via and Contact rewritten, RTP expected both ways: the
// kernel's sip helper on UDP (nf_conntrack_sip, nf_nat_sip).
import { kernelHelper } from './kernel-helper.ts'

export const renderSip = kernelHelper('sip', 'udp')
