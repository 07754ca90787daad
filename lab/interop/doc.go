// Package interop holds the end-to-end lab tests of the appliance: real tunnelbox binaries,
// each in its own network namespace and configured only through its own console, with hosts
// behind them, against each other and against strongSwan 5.9.8 (kernel-libipsec). The tests
// check that traffic triggers negotiation and passes, that both ends agree on SAs, counters and
// keys, that the outer link carries only ISAKMP and ESP in UDP (dissected by tshark), that the
// seed's hub-and-spoke case works, and that tampered ESP is dropped and counted.
//
// They need root, iproute2, ping, /dev/net/tun, tshark and strongSwan (lab/install-deps.sh);
// without them they skip under `go test` and fail under `make check`.
package interop
