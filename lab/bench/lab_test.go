package bench

import (
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/lab"
)

// EnableEnv must be "1" for TestBenchLab to run: the benchmarks take minutes and load the whole
// machine, so neither `go test ./...` nor `make check` runs them; `make bench-lab` does.
const EnableEnv = "TUNNELBOX_BENCH_LAB"

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a non-negative integer", name, v)
	}
	return n
}

// TestBenchLab runs the setup-rate and throughput benchmarks for strongSwan and Tunnelbox in
// one run and prints the table with the ratios. Knobs (environment):
//
//	TUNNELBOX_BENCH_N=500        tunnels per setup-rate run
//	TUNNELBOX_BENCH_ROUNDS=1     setup-rate runs per initiator and responder (alternating; median shown)
//	TUNNELBOX_BENCH_INITIATORS=charon,engines  setup-rate load generators
//	TUNNELBOX_BENCH_PACE=0       engine initiations per second (0: all at once)
//	TUNNELBOX_BENCH_SECONDS=10   iperf3 duration
//	TUNNELBOX_BENCH_PIN=1        initiator on CPU 0, responder on CPU 1
//	TUNNELBOX_BENCH_ONLY=rate|throughput
//	TUNNELBOX_BENCH_OUT=FILE     also write the table there
//	TUNNELBOX_BENCH_PROFILE=DIR  perf record the gateways during each iperf3 run
func TestBenchLab(t *testing.T) {
	if os.Getenv(EnableEnv) != "1" {
		t.Skipf("lab benchmarks run only with %s=1 (make bench-lab)", EnableEnv)
	}
	lab.RequireStrongSwan(t)
	lab.RequireCommands(t, "iperf3", "taskset", "ping", "go")
	n := envInt(t, "TUNNELBOX_BENCH_N", 500)
	rounds := max(1, envInt(t, "TUNNELBOX_BENCH_ROUNDS", 1))
	dur := time.Duration(max(1, envInt(t, "TUNNELBOX_BENCH_SECONDS", 10))) * time.Second
	pin := envInt(t, "TUNNELBOX_BENCH_PIN", 1) == 1 && runtime.NumCPU() >= 2
	only := os.Getenv("TUNNELBOX_BENCH_ONLY")
	ProfileDir = os.Getenv("TUNNELBOX_BENCH_PROFILE")
	pace := envInt(t, "TUNNELBOX_BENCH_PACE", 0)
	inits := Initiators[:]
	if v := os.Getenv("TUNNELBOX_BENCH_INITIATORS"); v != "" {
		inits = strings.Split(v, ",")
		for _, ini := range inits {
			if !slices.Contains(Initiators[:], ini) {
				t.Fatalf("TUNNELBOX_BENCH_INITIATORS: unknown initiator %q (want %v)", ini, Initiators)
			}
		}
	}

	bin, binErr := lab.BuildTunnelbox(lab.BuildOptions{})
	rep := &Report{}
	if only != "throughput" {
		for round := 0; round < rounds; round++ {
			for i, ini := range Initiators {
				if !slices.Contains(inits, ini) {
					continue
				}
				for j, who := range Responders {
					if who == Tunnelbox && binErr != nil {
						rep.Rate[i][j].Add(RateResult{}, binErr)
						continue
					}
					var r RateResult
					var err error
					t.Run(ini+"/"+who+"Rate", func(t *testing.T) {
						r, err = RunSetupRate(t, who, RateOptions{N: n, Pin: pin, TunnelboxBin: bin, Initiator: ini, Pace: float64(pace)})
						if err != nil {
							t.Log(err)
						}
					})
					rep.Rate[i][j].Add(r, err)
					t.Logf("setup rate, %s initiator, %s responder, round %d: %d/%d tunnels in %v = %.1f/s, responder CPU %v/tunnel, initiator CPU %v/tunnel, retransmits %d, UDP drops responder %d initiator %d (err %v)",
						ini, who, round+1, r.Established, n, r.Elapsed, r.Rate(), r.CPUPerTunnel(), r.InitCPUPerTunnel(), r.Retransmits, r.RespUDPDrops, r.InitUDPDrops, err)
				}
			}
		}
	}
	if only != "rate" {
		for _, s := range Suites {
			row := ThroughputRow{Suite: s.Name}
			t.Run(StrongSwan+"Throughput/"+s.Name, func(t *testing.T) {
				r, err := RunThroughputStrongSwan(t, s, dur)
				if err == nil {
					row.Swan = &r
				}
				row.SwanErr = err
			})
			t.Run(Tunnelbox+"Throughput/"+s.Name, func(t *testing.T) {
				if binErr != nil {
					row.TbErr = binErr
					return
				}
				r, err := RunThroughputTunnelbox(t, bin, s, dur)
				if err == nil {
					row.Tbx = &r
				}
				row.TbErr = err
			})
			rep.Throughput = append(rep.Throughput, row)
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	rep.Notes = append(rep.Notes,
		"machine: "+strconv.Itoa(runtime.NumCPU())+" CPUs, load average before the end "+string(trimNL(load)),
		"setup rate: median of "+strconv.Itoa(rounds)+" round(s); pinned (initiator CPU 0, responder CPU 1): "+strconv.FormatBool(pin))
	table := rep.Render()
	// Printed directly so that the table is shown whatever -v says.
	os.Stdout.WriteString("\n" + table)
	if out := os.Getenv("TUNNELBOX_BENCH_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(table), 0o644); err != nil {
			t.Error(err)
		}
	}
	for i, row := range rep.Rate {
		for j, e := range row {
			if only != "throughput" && slices.Contains(inits, Initiators[i]) && e.Median() == nil {
				t.Errorf("setup rate, %s initiator, %s responder: %v", Initiators[i], Responders[j], e.Err)
			}
		}
	}
	for _, row := range rep.Throughput {
		if row.SwanErr != nil {
			t.Errorf("throughput %s, strongSwan: %v", row.Suite, row.SwanErr)
		}
		if row.TbErr != nil {
			t.Errorf("throughput %s, Tunnelbox: %v", row.Suite, row.TbErr)
		}
	}
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}
