package lab

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestHostAddr(t *testing.T) {
	tests := []struct {
		prefix string
		n      int
		want   string
		err    bool
	}{
		{"10.1.1.0/24", 1, "10.1.1.1", false},
		{"10.1.1.77/24", 10, "10.1.1.10", false},
		{"192.0.2.0/30", 2, "192.0.2.2", false},
		{"192.0.2.0/30", 3, "", true}, // broadcast
		{"192.0.2.0/24", 0, "", true}, // network
		{"192.0.2.0/31", 1, "", true}, // no room
		{"10.255.255.0/24", 254, "10.255.255.254", false},
		{"10.0.0.0/16", 256, "10.0.1.0", false},
		{"2001:db8::/64", 1, "", true}, // IPv4 only
	}
	for _, tc := range tests {
		got, err := hostAddr(netip.MustParsePrefix(tc.prefix), tc.n)
		if (err != nil) != tc.err {
			t.Errorf("hostAddr(%s, %d) error = %v, want error %v", tc.prefix, tc.n, err, tc.err)
			continue
		}
		if err == nil && got.String() != tc.want {
			t.Errorf("hostAddr(%s, %d) = %s, want %s", tc.prefix, tc.n, got, tc.want)
		}
	}
}

func TestAddRouteRefusesDefault(t *testing.T) {
	n := &Netns{Name: "tb-never-created"}
	for _, p := range []string{"0.0.0.0/0", "::/0"} {
		if err := n.AddRoute(netip.MustParsePrefix(p), netip.MustParseAddr("10.1.1.1")); err == nil {
			t.Errorf("AddRoute(%s) succeeded, want refusal", p)
		}
	}
}

func requireNetns(t *testing.T) {
	t.Helper()
	RequireShort(t)
	RequireRoot(t)
	RequireCommands(t, "ip", "ping", "sysctl")
}

func TestNetnsLifecycle(t *testing.T) {
	requireNetns(t)
	var name string
	var proc *Proc
	t.Run("inner", func(t *testing.T) {
		n := NewNetns(t, "life")
		name = n.Name
		if !strings.HasPrefix(name, "tb-") || !strings.HasSuffix(name, "-life") {
			t.Fatalf("name %q does not follow tb-<pid>-<seq>-<role>", name)
		}
		if _, err := os.Stat("/run/netns/" + name); err != nil {
			t.Fatalf("namespace not created: %v", err)
		}
		out := n.MustRun(t, "ip", "-br", "link", "show", "lo")
		if !strings.Contains(out, "UP") && !strings.Contains(out, "UNKNOWN") {
			t.Fatalf("loopback not up: %q", out)
		}
		var err error
		proc, err = n.Start(t, "sleeper", "sleep", "600")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.Run("false"); err == nil {
			t.Fatal("Run(false) succeeded")
		} else if ce := new(CommandError); !errors.As(err, &ce) || ce.Netns != name {
			t.Fatalf("Run(false) error %T %v, want *CommandError in %s", err, err, name)
		}
	})
	// The subtest's cleanups have run: the process is gone and the namespace deleted.
	if done, _ := proc.Exited(); !done {
		t.Errorf("process %d still running after cleanup", proc.Pid)
	}
	if _, err := os.Stat("/run/netns/" + name); !os.IsNotExist(err) {
		t.Errorf("namespace %s still present after cleanup (%v)", name, err)
	}
}

func TestFourNodePlainRouting(t *testing.T) {
	requireNetns(t)
	f := NewFourNode(t, &FourNodeOptions{RouteLANs: true})
	if f.L.HostAddr.String() != "10.1.1.10" || f.R.Outer.String() != "192.0.2.2" {
		t.Fatalf("unexpected default addressing: %+v %+v", f.L, f.R)
	}
	f.L.Host.MustRun(t, "ping", "-c", "1", "-W", "2", f.R.HostAddr.String())
	// No default routes anywhere.
	for _, n := range []*Netns{f.L.Host, f.L.Gw, f.R.Gw, f.R.Host} {
		if out := n.MustRun(t, "ip", "route", "show", "default"); strings.TrimSpace(out) != "" {
			t.Errorf("%s has a default route: %s", n, out)
		}
	}
}

func TestFourNodeNoRoutesNoPath(t *testing.T) {
	requireNetns(t)
	f := NewFourNode(t, nil)
	if _, err := f.L.Host.Run("ping", "-c", "1", "-W", "1", f.R.HostAddr.String()); err == nil {
		t.Fatal("ping crossed the gateways without routes or a tunnel")
	}
	// The outer link itself works.
	f.L.Gw.MustRun(t, "ping", "-c", "1", "-W", "2", f.R.Outer.String())
}

func TestHubSpoke(t *testing.T) {
	requireNetns(t)
	h := NewHubSpoke(t, &HubSpokeOptions{Spokes: 3, RouteLANs: true})
	if len(h.Spokes) != 3 || h.Spokes[2].LAN.String() != "10.3.3.0/24" || h.Spokes[2].Outer.String() != "192.0.2.4" {
		t.Fatalf("unexpected spokes: %+v", h.Spokes)
	}
	h.Spokes[0].Host.MustRun(t, "ping", "-c", "1", "-W", "2", h.Hub.HostAddr.String())
	h.Spokes[2].Host.MustRun(t, "ping", "-c", "1", "-W", "2", h.Spokes[1].HostAddr.String())
}

func TestSweepStale(t *testing.T) {
	requireNetns(t)
	// A PID that is certainly dead: a process we started and reaped.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := cmd.Process.Pid
	stale := fmt.Sprintf("tb-%d-1-stale", dead)
	live := fmt.Sprintf("tb-%d-999-live", os.Getpid()) // ours: must survive
	for _, n := range []string{stale, live} {
		if err := runHost("ip", "netns", "add", n); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = runHost("ip", "netns", "delete", n) })
	}
	staleDir, err := os.MkdirTemp("", fmt.Sprintf("tb-sw-%d-gwX-", dead))
	if err != nil {
		t.Fatal(err)
	}
	liveDir, err := os.MkdirTemp("", fmt.Sprintf("tb-sw-%d-gwY-", os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(staleDir); os.RemoveAll(liveDir) })
	gone := SweepStale()
	if !slices.Contains(gone, stale) || slices.Contains(gone, live) || !slices.Contains(gone, staleDir) || slices.Contains(gone, liveDir) {
		t.Errorf("SweepStale removed %v; want %s and %s, not %s or %s", gone, stale, staleDir, live, liveDir)
	}
	if _, err := os.Stat("/run/netns/" + live); err != nil {
		t.Errorf("live namespace removed: %v", err)
	}
}
