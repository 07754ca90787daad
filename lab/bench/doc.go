// Package bench holds the lab benchmarks of the userspace data-plane issue (acceptance 4):
// strongSwan and Tunnelbox side by side, in one run, on the same machine, reported as ratios.
//
// # Setup rate
//
// An initiator opens N tunnels at once, each its own Main Mode IKE SA and its own Quick Mode
// CHILD SA with PFS group 14: IKE aes256-sha256-modp2048, ESP aes256-sha1, proxies 10.1.x.y/32
// <-> 10.2.x.y/32. The responder is first a strongSwan charon, then the Tunnelbox binary
// configured only through its CLI (piped console). For each the harness reports tunnels/s
// (first initiation to the N-th CHILD SA the initiator sees established, the same clock for
// both responders), the responder's CPU per tunnel (utime+stime of the responder process from
// /proc/PID/stat, read before and after) and the initiator's.
//
// Two initiators (load generators) take turns, pinned to CPU 0 with the responder on CPU 1:
//
//   - charon: strongSwan 5.9.8 with N connections, each its own identity (bI.left.lab), loaded
//     first and then all initiated over vici without waiting. It needs several milliseconds of
//     CPU per tunnel, which caps it near 150 tunnels/s on one core: below what a fast
//     responder takes.
//   - engines: N Tunnelbox IKE engines (package ike) in one process, the test binary
//     re-executed in the initiator's namespace (LoadGen, StartLoadGen). Engine i has its own
//     source address EngineInitiatorAddr(i) on lo (198.18.0.0/15, which the responder routes to
//     the initiator) with its own UDP 500/4500 sockets, and a spoke's configuration
//     (EngineConfig) with one crypto map entry to the responder. It negotiates only (no data
//     plane) and counts EvPhase2Up events. The strongSwan responder accepts %any; the
//     Tunnelbox responder has a wildcard key and one crypto map entry per initiator address
//     (RateTunnelboxEnginesConf), as an IOS hub with N static spokes.
//
// # Throughput
//
// iperf3 (TCP, 10 s) from hostL to hostR through one tunnel between two gateways: strongSwan <->
// strongSwan (kernel-libipsec: ESP in userspace over TUN) and Tunnelbox <-> Tunnelbox (the
// userspace ESP data plane), for aes128-gcm (esp-gcm 128 / aes128gcm16) and aes256-sha1
// (esp-aes 256 esp-sha-hmac / aes256-sha1).
//
// # Running
//
// The benchmarks take minutes and need root, strongSwan, iperf3 and the tunnelbox binary
// (built by the test), so they never run in `make check`: TestBenchLab skips unless
// TUNNELBOX_BENCH_LAB=1. One command runs everything and prints the table:
//
//	make bench-lab
//	TUNNELBOX_BENCH_N=200 TUNNELBOX_BENCH_ROUNDS=3 make bench-lab   # smaller N, median of 3
//	TUNNELBOX_BENCH_INITIATORS=engines TUNNELBOX_BENCH_ONLY=rate make bench-lab
//
// The pure parts (configuration generation, /proc/PID/stat and iperf3 JSON parsing, the table)
// have unit tests that do run everywhere.
package bench
