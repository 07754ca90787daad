// Package userspace is the userspace IPsec data plane: a TUN device carries the protected
// traffic into the process and ESP in UDP (RFC 4303, RFC 3948) carries it to the peer. It is the
// backend for kernels without ESP (containers, restricted kernels, this build machine), the same
// role as strongSwan's kernel-libipsec, and it implements the ike.Installer seam (AddSA, DelSA,
// AddPolicy, DelPolicy, Counters, Events, Close).
//
// # Packet paths
//
//	outbound: TUN read (up to TUNBatch packets per wakeup) -> 5-tuple -> first outbound policy
//	          by priority (the crypto ACL order) -> newest outbound SA with the policy's Reqid
//	          and peer -> esp.Seal -> Config.SendBatch for the whole batch, or Config.Send each
//	          (no SA: an Acquire event, at most one per policy per AcquireInterval; packet dropped)
//	inbound:  IKE's UDP 4500 reader -> xfrm.Classify4500 -> HandleESPInUDP -> SA by SPI
//	          -> esp.Open -> inbound policy check (RFC 4301 §5.2) -> TUN write
//
// # The NAT-T socket is shared
//
// The IKE engine owns the UDP 4500 socket. It hands every datagram that Classify4500 calls ESP to
// Backend.HandleESPInUDP, and the backend transmits through Config.SendBatch or Config.Send
// (normally the transport's SendESPBatch, sendmmsg with UDP GSO, and SendESP), so IKE and ESP
// leave from the same address and port and keep the same NAT mapping. Only UDP-encapsulated SAs can be installed: plain ESP (IP protocol 50) would need a
// raw socket, which this backend does not open.
//
// # Routes
//
// For each outbound tunnel-mode protecting policy the backend routes the remote protected prefix
// to its TUN device (netlink, NETLINK_ROUTE), reference-counted across policies, and removes the
// routes on DelPolicy and Close. A protected prefix that contains the peer itself is refused:
// its ESP datagrams would be routed into the tunnel.
//
// # Counters
//
// Besides the per-SA counters (Counters), every policy counts the TUN packets it was the first
// outbound match for and, of those, the ones dropped because no SA existed yet
// (PolicyCounters): the engine maps its policies to crypto ACL lines for `show access-lists`
// and `#pkts no sa (send)`. Inbound datagrams with an unknown SPI are counted per sending peer
// (InvalidSPI, peers of installed SAs and policies only) and in total (Drops). All counters are
// atomics on the packet paths.
//
// # Concurrency
//
// All methods are safe for concurrent use. Tables are guarded by one RWMutex; the packet paths
// take it for reading (the outbound path once per TUN batch). Lifetime timers and hard expiries take it for writing.
//
// New creates the TUN device and the netlink handle in the network namespace of the calling
// thread; a caller placing the backend in another namespace runs New on a thread locked there.
package userspace
