package bench

import (
	"cmp"
	"fmt"
	"slices"
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
	Rate       [2][2]RateEntry // [initiator][responder], in the order of Initiators and Responders
	Throughput []ThroughputRow
	Notes      []string // machine and run conditions, printed under the tables
}

// RateEntry is the setup-rate runs of one initiator against one responder, or the error of a
// failed run when none completed.
type RateEntry struct {
	Runs []RateResult // complete runs, in the order run
	Err  error
}

// ThroughputRow is one suite measured through both implementations.
type ThroughputRow struct {
	Suite          string
	Swan, Tbx      *ThroughputResult
	SwanErr, TbErr error
}

// Add records one setup-rate run: complete runs are kept, and the error of a failed run while
// none completed.
func (e *RateEntry) Add(r RateResult, err error) {
	if err != nil {
		if len(e.Runs) == 0 && e.Err == nil {
			e.Err = err
		}
		return
	}
	e.Runs = append(e.Runs, r)
	e.Err = nil
}

// Median returns the complete run with the median setup rate (the lower of the middle two for
// an even count: always a run that happened), nil when none completed.
func (e *RateEntry) Median() *RateResult {
	if len(e.Runs) == 0 {
		return nil
	}
	rs := slices.Clone(e.Runs)
	slices.SortStableFunc(rs, func(a, b RateResult) int { return cmp.Compare(a.Rate(), b.Rate()) })
	return &rs[(len(rs)-1)/2]
}

// ran reports whether the entry holds a run or an error.
func (e *RateEntry) ran() bool { return len(e.Runs) > 0 || e.Err != nil }

// Render returns the report as text tables with the Tunnelbox/strongSwan ratios. A part that
// was not run is left out; failures are listed under the tables.
func (rep *Report) Render() string {
	var b strings.Builder
	var failed []string
	for _, row := range rep.Rate {
		if row[0].ran() || row[1].ran() {
			failed = rep.renderRate(&b, failed)
			break
		}
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
	for _, row := range rep.Rate {
		for _, e := range row {
			if r := e.Median(); r != nil {
				n = r.N
			}
		}
	}
	fmt.Fprintf(b, "Setup rate: N=%d tunnels at once, each its own Main Mode IKE SA + Quick Mode CHILD SA\n", n)
	b.WriteString("(IKE aes256-sha256-modp2048, ESP aes256-sha1, PFS group 14); initiators: charon = one strongSwan\n")
	b.WriteString("with N connections, engines = N Tunnelbox IKE engines in one process, one source address each\n")
	fmt.Fprintf(b, "(negotiation only). Each row is the median of its runs by tunnels/s.\n\n")
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "initiator\tresponder\truns\ttunnels\telapsed\ttunnels/s\tresp CPU/tunnel\t=> tunnels/s per resp core\tinit CPU/tunnel\tresp CPU\tinit CPU\tother CPU\tretransmits\tUDP drops resp/init")
	for i, row := range rep.Rate {
		if !row[0].ran() && !row[1].ran() {
			continue
		}
		for j, e := range row {
			ini, resp := Initiators[i], Responders[j]
			r := e.Median()
			if r == nil {
				fmt.Fprintf(tw, "%s\t%s\tFAILED (see below)\n", ini, resp)
				failed = append(failed, fmt.Sprintf("setup rate, %s initiator, %s responder: %s", ini, resp, oneLine(e.Err)))
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d/%d\t%s\t%.1f\t%s\t%.0f\t%s\t%s\t%s\t%s\t%d\t%d/%d\n", ini, resp, len(e.Runs),
				r.Established, r.N, secs(r.Elapsed), r.Rate(), ms(r.CPUPerTunnel()), r.PerCore(), ms(r.InitCPUPerTunnel()),
				secs(r.ResponderCPU), secs(r.InitiatorCPU), secs(r.OtherCPU), r.Retransmits, r.RespUDPDrops, r.InitUDPDrops)
		}
	}
	tw.Flush()
	first := true
	for i, row := range rep.Rate {
		s, t := row[0].Median(), row[1].Median()
		if s == nil || t == nil || s.Rate() <= 0 || t.CPUPerTunnel() <= 0 || s.CPUPerTunnel() <= 0 {
			continue
		}
		if first {
			b.WriteString("\n")
			first = false
		}
		fmt.Fprintf(b, "%s initiator, Tunnelbox/strongSwan: setup rate %.2fx (aim %.1fx); responder CPU per tunnel %.2fx, i.e. %.2fx the tunnels per responder core\n",
			Initiators[i], t.Rate()/s.Rate(), AimRate, float64(t.CPUPerTunnel())/float64(s.CPUPerTunnel()),
			float64(s.CPUPerTunnel())/float64(t.CPUPerTunnel()))
		if c := t.InitCPUPerTunnel(); c > 0 {
			fmt.Fprintf(b, "  (the %s initiator used %s per tunnel: on one core it cannot open more than %.0f tunnels/s)\n",
				Initiators[i], ms(c), 1/c.Seconds())
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
