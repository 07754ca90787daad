package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/lab"
)

// Iperf3Result is the summary of one iperf3 TCP test (client side, -J).
type Iperf3Result struct {
	SentBps, ReceivedBps float64 // bits per second, sender and receiver side of the stream
	Retransmits          int
	Duration             time.Duration // the receiver's measured interval
}

// ReceivedMbps is the receiver's rate in Mbit/s (what the table reports).
func (r Iperf3Result) ReceivedMbps() float64 { return r.ReceivedBps / 1e6 }

// ParseIperf3 decodes the JSON iperf3 -J prints and returns its end summary. iperf3 reports its
// own failures as a top-level "error" string, which becomes the error.
func ParseIperf3(b []byte) (Iperf3Result, error) {
	var doc struct {
		Error string `json:"error"`
		End   *struct {
			SumSent *struct {
				Bps         float64 `json:"bits_per_second"`
				Retransmits int     `json:"retransmits"`
			} `json:"sum_sent"`
			SumReceived *struct {
				Seconds float64 `json:"seconds"`
				Bps     float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return Iperf3Result{}, &ParseError{What: "iperf3", Msg: err.Error()}
	}
	if doc.Error != "" {
		return Iperf3Result{}, &ParseError{What: "iperf3", Msg: "iperf3 failed: " + doc.Error}
	}
	if doc.End == nil || doc.End.SumSent == nil || doc.End.SumReceived == nil {
		return Iperf3Result{}, &ParseError{What: "iperf3", Msg: "no end.sum_sent/sum_received (not a TCP test?)"}
	}
	r := Iperf3Result{
		SentBps:     doc.End.SumSent.Bps,
		ReceivedBps: doc.End.SumReceived.Bps,
		Retransmits: doc.End.SumSent.Retransmits,
		Duration:    time.Duration(doc.End.SumReceived.Seconds * float64(time.Second)),
	}
	if r.SentBps < 0 || r.ReceivedBps < 0 || r.Duration <= 0 {
		return Iperf3Result{}, &ParseError{What: "iperf3", Msg: fmt.Sprintf("implausible summary %+v", r)}
	}
	return r, nil
}

// Iperf3 runs one iperf3 TCP test of d from client to an iperf3 server started in server,
// bound to addr, and returns the summary.
func Iperf3(t testing.TB, client, server *lab.Netns, addr netip.Addr, d time.Duration) (Iperf3Result, error) {
	t.Helper()
	// --forceflush: without a terminal iperf3 buffers "Server listening" until it exits.
	srv, err := server.Start(t, "iperf3-server", "iperf3", "-s", "-1", "--forceflush", "-B", addr.String())
	if err != nil {
		return Iperf3Result{}, err
	}
	defer srv.Stop()
	if err := srv.WaitOutput("Server listening", 10*time.Second); err != nil {
		return Iperf3Result{}, err
	}
	secs := strconv.Itoa(max(1, int(d/time.Second)))
	ctx, cancel := context.WithTimeout(context.Background(), d+30*time.Second)
	defer cancel()
	// Stdout only: the JSON document; warnings on stderr would corrupt it.
	out, err := client.Command(ctx, "iperf3", "-c", addr.String(), "-t", secs, "-J", "--connect-timeout", "5000").Output()
	res, perr := ParseIperf3(out)
	if err != nil {
		// iperf3 -J prints its own error inside the JSON: keep that message.
		return Iperf3Result{}, fmt.Errorf("bench: iperf3 in %s: %w (%v)", client.Role, err, perr)
	}
	return res, perr
}
