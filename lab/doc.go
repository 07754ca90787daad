// Package lab holds the project's own test harness: network-namespace topologies, the real
// tunnelbox binary driven through its console, a real strongSwan peer, tshark capture and
// dissection, and the rule for real-world test tiers.
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
// # Tunnelbox
//
// BuildTunnelbox builds cmd/tunnelbox once per test process (BuildOptions.Static: CGO_ENABLED=0,
// for lab/vm), or returns TUNNELBOX_BIN when set; RunTests, from TestMain, deletes the build.
// StartRouter runs the binary in a namespace with a fresh store, SSH off and its console on a
// pipe, and waits for the first prompt. Router.Send types lines and returns their transcript up
// to the next prompt (a comment line sent after them marks the end); Exec and MustExec are the
// test forms, Configure and ConfigureBatch enter configuration mode and report a refused line as
// a *RouterError. Cleanup closes the console (the router sends its deletes and exits), then
// sends SIGTERM and SIGKILL by PID if it lingers.
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
