package bench

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
)

// Aims of the acceptance 4, as Tunnelbox/strongSwan ratios.
const (
	AimRate       = 4.0 // setup rate
	AimThroughput = 1.5 // iperf3 throughput
)

// Report is the outcome of one lab benchmark run: each figure or the error that prevented it.
type Report struct {
	Rate       [2]RateEntry // StrongSwan, then Tunnelbox responder
	Throughput []ThroughputRow
	Notes      []string // machine and run conditions, printed under the tables
}

// RateEntry is the best setup-rate run of one responder (by tunnels/s) or its error.
type RateEntry struct {
	Result *RateResult
	Runs   int // successful runs the best was picked from
	Err    error
}

// ThroughputRow is one suite measured through both implementations.
type ThroughputRow struct {
	Suite          string
	Swan, Tbx      *ThroughputResult
	SwanErr, TbErr error
}

// Add records one setup-rate run: it keeps the best (highest tunnels/s) of the complete runs,
// and the error of a failed run when none completed.
func (e *RateEntry) Add(r RateResult, err error) {
	if err != nil {
		if e.Result == nil {
			if e.Err == nil {
				e.Err = err
			}
		}
		return
	}
	e.Runs++
	e.Err = nil
	if e.Result == nil || r.Rate() > e.Result.Rate() {
		e.Result = &r
	}
}

// Render returns the report as text tables with the Tunnelbox/strongSwan ratios. A part that
// was not run is left out; failures are listed under the tables.
func (rep *Report) Render() string {
	var b strings.Builder
	var failed []string
	if rep.Rate[0].Result != nil || rep.Rate[0].Err != nil || rep.Rate[1].Result != nil || rep.Rate[1].Err != nil {
		failed = rep.renderRate(&b, failed)
	}
	if len(rep.Throughput) > 0 {
		failed = rep.renderThroughput(&b, failed)
	}
	if len(failed) > 0 {
		b.WriteString("\nFailures:\n")
		for _, f := range failed {
			b.WriteString("  " + f + "\n")
		}
	}
	if len(rep.Notes) > 0 {
		b.WriteString("\n")
		for _, n := range rep.Notes {
			b.WriteString(n + "\n")
		}
	}
	return b.String()
}

func (rep *Report) renderRate(b *strings.Builder, failed []string) []string {
	n := 0
	for _, e := range rep.Rate {
		if e.Result != nil {
			n = e.Result.N
		}
	}
	fmt.Fprintf(b, "Setup rate: one strongSwan initiator, N=%d tunnels at once, each its own Main Mode IKE SA +\n", n)
	b.WriteString("Quick Mode CHILD SA (IKE aes256-sha256-modp2048, ESP aes256-sha1, PFS group 14)\n\n")
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "responder\ttunnels\telapsed\ttunnels/s\tresp CPU/tunnel\t=> tunnels/s per resp core\tresp CPU\tinit CPU\tother CPU\tretransmits\tUDP drops resp/init")
	for i, e := range rep.Rate {
		name := [2]string{StrongSwan, Tunnelbox}[i]
		if e.Result == nil {
			fmt.Fprintf(tw, "%s\tFAILED (see below)\n", name)
			failed = append(failed, fmt.Sprintf("setup rate, %s responder: %s", name, oneLine(e.Err)))
			continue
		}
		r := e.Result
		fmt.Fprintf(tw, "%s\t%d/%d\t%s\t%.1f\t%s\t%.0f\t%s\t%s\t%s\t%d\t%d/%d\n", name, r.Established, r.N,
			secs(r.Elapsed), r.Rate(), ms(r.CPUPerTunnel()), r.PerCore(), secs(r.ResponderCPU), secs(r.InitiatorCPU),
			secs(r.OtherCPU), r.Retransmits, r.RespUDPDrops, r.InitUDPDrops)
	}
	tw.Flush()
	if s, t := rep.Rate[0].Result, rep.Rate[1].Result; s != nil && t != nil && s.Rate() > 0 && t.CPUPerTunnel() > 0 {
		fmt.Fprintf(b, "\nTunnelbox/strongSwan: setup rate %.2fx (aim %.1fx); responder CPU per tunnel %.2fx, i.e. %.2fx the tunnels per responder core\n",
			t.Rate()/s.Rate(), AimRate, float64(t.CPUPerTunnel())/float64(s.CPUPerTunnel()),
			float64(s.CPUPerTunnel())/float64(t.CPUPerTunnel()))
		if t.Established > 0 && t.InitiatorCPU > 0 {
			fmt.Fprintf(b, "(the shared strongSwan initiator used %s per tunnel: on one core it cannot open more than %.0f tunnels/s)\n",
				ms(t.InitiatorCPU/time.Duration(t.Established)), float64(t.Established)/t.InitiatorCPU.Seconds())
		}
	}
	return failed
}

func (rep *Report) renderThroughput(b *strings.Builder, failed []string) []string {
	if b.Len() > 0 {
		b.WriteString("\n")
	}
	b.WriteString("Throughput: iperf3 TCP hostL -> hostR through one tunnel; strongSwan <-> strongSwan\n")
	b.WriteString("(kernel-libipsec) vs Tunnelbox <-> Tunnelbox (userspace ESP), Mbit/s at the receiver (TCP retransmissions)\n\n")
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "suite\tstrongSwan\tTunnelbox\tratio\taim\tgw CPU strongSwan (L/R)\tgw CPU Tunnelbox (L/R)\tgw CPU/MB strongSwan\tgw CPU/MB Tunnelbox\tgw drops UDP/TUN strongSwan\tgw drops UDP/TUN Tunnelbox")
	for _, row := range rep.Throughput {
		sw, tb, ratio := cell(row.Swan, row.SwanErr), cell(row.Tbx, row.TbErr), "-"
		if row.Swan == nil && row.SwanErr != nil {
			failed = append(failed, fmt.Sprintf("throughput %s, strongSwan: %s", row.Suite, oneLine(row.SwanErr)))
		}
		if row.Tbx == nil && row.TbErr != nil {
			failed = append(failed, fmt.Sprintf("throughput %s, Tunnelbox: %s", row.Suite, oneLine(row.TbErr)))
		}
		if row.Swan != nil && row.Tbx != nil && row.Swan.ReceivedBps > 0 {
			ratio = fmt.Sprintf("%.2fx", row.Tbx.ReceivedBps/row.Swan.ReceivedBps)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1fx\t%s\t%s\t%s\t%s\t%s\t%s\n", row.Suite, sw, tb, ratio, AimThroughput,
			gwCPU(row.Swan), gwCPU(row.Tbx), cpuPerMB(row.Swan), cpuPerMB(row.Tbx), drops(row.Swan), drops(row.Tbx))
	}
	tw.Flush()
	return failed
}

func cell(r *ThroughputResult, err error) string {
	if r == nil {
		if err == nil {
			return "not run"
		}
		return "FAILED"
	}
	return fmt.Sprintf("%.0f (%d retr)", r.ReceivedMbps(), r.Retransmits)
}

func gwCPU(r *ThroughputResult) string {
	if r == nil || r.Duration <= 0 {
		return "-"
	}
	pct := func(d time.Duration) int { return int(100*d.Seconds()/r.Duration.Seconds() + 0.5) }
	return fmt.Sprintf("%d%%/%d%%", pct(r.GwCPU[0]), pct(r.GwCPU[1]))
}

// cpuPerMB is the two gateways' CPU time per megabyte delivered (both directions' work for the
// stream: encryption at one gateway, decryption at the other): the data plane's cost, which the
// throughput alone hides when the machine, not the gateways, is the bottleneck.
func cpuPerMB(r *ThroughputResult) string {
	if r == nil || r.ReceivedBps <= 0 || r.Duration <= 0 {
		return "-"
	}
	mb := r.ReceivedBps * r.Duration.Seconds() / 8 / 1e6
	return fmt.Sprintf("%.2f ms", 1000*(r.GwCPU[0]+r.GwCPU[1]).Seconds()/mb)
}

func drops(r *ThroughputResult) string {
	if r == nil {
		return "-"
	}
	return fmt.Sprintf("%d/%d", r.UDPDrops, r.TUNDrops)
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
func ms(d time.Duration) string   { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// oneLine shortens an error for a table cell.
func oneLine(err error) string {
	if err == nil {
		return ""
	}
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 400 {
		s = s[:397] + "..."
	}
	return s
}
