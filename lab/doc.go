// Package lab holds the project's own test harness: network-namespace topologies, a real
// strongSwan peer, tshark capture and dissection, and the rule for real-world test tiers.
//
// # Tiers
//
// A test that needs a resource this machine may lack (root, network namespaces, strongSwan,
// OpenSSH, tshark, QEMU) calls Require*. Under a bare `go test ./...` a missing resource skips the
// test and says why; under `make check` (TUNNELBOX_LAB_REQUIRED=1) it fails the test, because a
// real-world tier that did not run is a failure there.
//
// # Namespaces and topologies
//
// NewNetns creates a network namespace named tb-<pid>-<seq>-<role>, brings its loopback up and
// deletes it in t.Cleanup, after every process started in it (Netns.Start) has been killed by
// PID. Veth, Netns.AddAddr, Netns.AddRoute and Netns.Sysctl wire namespaces together;
// NewFourNode and NewHubSpoke build the two standard topologies:
//
//	hostL 10.1.1.10 -- 10.1.1.1 gwL 192.0.2.1 == 192.0.2.2 gwR 10.2.2.1 -- 10.2.2.10 hostR
//
//	hub (192.0.2.1, LAN 10.0.0.0/24) and spokes k=1..N (192.0.2.(1+k), LAN 10.k.k.0/24),
//	all gateways on one switched outer segment (a bridge in its own namespace).
//
// No namespace ever gets a default route: traffic stays on loopback and inside the namespaces.
//
// # strongSwan
//
// StartCharon runs charon (kernel-libipsec: this kernel has XFRM but no ESP) in a namespace with
// a private /run (charon 5.9 hard-codes /var/run/charon.pid) and a strongswan.conf generated from
// CharonSettings; Charon.Load writes swanctl.conf from PeerConfigs and loads it with swanctl over
// the instance's vici socket. Initiate, Terminate and ListSAs speak vici directly (a small
// client in vici.go). ParseKeyLog reads the key material charon logs at level 4.
//
// # tshark
//
// StartCapture runs dumpcap on an interface in a namespace; Dissect runs tshark over the pcap and
// returns one Packet per frame with its protocol stack and any malformed or expert-error marks.
package lab
