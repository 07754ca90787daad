package main

import (
	"context"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/lab"
)

// pipeRouter is the binary with its console on a pipe, driven line by line.
type pipeRouter struct {
	t     *testing.T
	stdin io.WriteCloser
	out   *lab.SyncBuffer
	off   int
	cmd   *exec.Cmd
}

func (r *pipeRouter) send(lines ...string) {
	r.t.Helper()
	for _, l := range lines {
		if _, err := io.WriteString(r.stdin, l+"\n"); err != nil {
			r.t.Fatal(err)
		}
	}
}

// expect waits until the output after the last match contains want (the deadline only bounds
// a hung test).
func (r *pipeRouter) expect(want string) {
	r.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s := r.out.String()
		if i := strings.Index(s[r.off:], want); i >= 0 {
			r.off += i + len(want)
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("console output never contained %q; after offset %d:\n%s", want, r.off, s[r.off:])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitState polls a command in ns until its output satisfies ok (the kernel applies netlink
// requests synchronously, but the router applies them after the console echoed the line).
func waitState(t *testing.T, ns *lab.Netns, what string, ok func(string) bool, args ...string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, err := ns.Run(args...)
		if err == nil && ok(out) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: `%s` never matched; last output:\n%s (%v)", what, strings.Join(args, " "), out, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func adminUp(out string) bool {
	i, j := strings.Index(out, "<"), strings.Index(out, ">")
	return i >= 0 && j > i && strings.Contains(","+out[i+1:j]+",", ",UP,")
}

// TestPortsInNetns runs the binary in a network namespace holding a veth pair eth0/eth1: the
// links are its ports GigabitEthernet0/0 and 0/1, `ip address` and `shutdown` typed on the
// console change eth0 through netlink, the show commands report the links' real state, and
// the port the configuration does not touch keeps what Linux gave it.
func TestPortsInNetns(t *testing.T) {
	lab.RequireShort(t)
	lab.RequireRoot(t)
	lab.RequireCommands(t, "ip")
	bin := buildBinary(t)
	ns := lab.NewNetns(t, "ports")
	ns.MustRun(t, "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth1")
	ns.MustRun(t, "ip", "link", "set", "eth1", "up")
	ns.MustRun(t, "ip", "addr", "add", "198.51.100.7/24", "dev", "eth1")
	mac := strings.Fields(ns.MustRun(t, "cat", "/sys/class/net/eth0/address"))[0]

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := ns.Command(ctx, bin, "--db", filepath.Join(t.TempDir(), "p.db"), "--ssh", "", "--dataplane", "none")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	r := &pipeRouter{t: t, stdin: stdin, out: &lab.SyncBuffer{}, cmd: cmd}
	cmd.Stdout, cmd.Stderr = r.out, r.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if t.Failed() {
			t.Logf("console:\n%s", r.out.String())
		}
	}()

	// At boot the links are the ports, with their admin state: eth0 is down, eth1 up
	// (without carrier, its peer being down).
	r.send("enable", "show ip interface brief")
	r.expect("GigabitEthernet0/0         unassigned      YES unset  administratively down down")
	r.expect("GigabitEthernet0/1         unassigned      YES unset  down                  down")

	r.send("configure terminal", "interface g0/0", "ip address 10.20.30.1 255.255.255.0", "no shutdown", "end")
	waitState(t, ns, "address on eth0", func(s string) bool { return strings.Contains(s, " 10.20.30.1/24 ") },
		"ip", "-o", "-4", "addr", "show", "dev", "eth0")
	waitState(t, ns, "eth0 up", adminUp, "ip", "-o", "link", "show", "eth0")
	if err := ns.WaitCarrier("eth0", 15*time.Second); err != nil {
		t.Fatal(err)
	}
	r.send("show ip interface brief", "show interfaces GigabitEthernet0/0")
	r.expect("GigabitEthernet0/0         10.20.30.1      YES manual up                    up")
	r.expect("GigabitEthernet0/1         unassigned      YES unset  up                    up")
	r.expect("GigabitEthernet0/0 is up, line protocol is up\n")
	cisco := strings.ReplaceAll(mac, ":", "")
	cisco = cisco[0:4] + "." + cisco[4:8] + "." + cisco[8:12]
	r.expect("  Hardware is iGbE, address is " + cisco + " (bia " + cisco + ")\n")
	r.expect("  Internet address is 10.20.30.1/24\n")

	// shutdown sets the link down; the address stays configured.
	r.send("configure terminal", "interface g0/0", "shutdown", "end")
	waitState(t, ns, "eth0 down", func(s string) bool { return !adminUp(s) }, "ip", "-o", "link", "show", "eth0")
	r.send("show ip interface brief")
	r.expect("GigabitEthernet0/0         10.20.30.1      YES manual administratively down down")

	// A port without a link does not exist.
	r.send("configure terminal", "interface GigabitEthernet0/5")
	r.expect("GigabitEthernet0/5 (eth5)")
	r.send("end")

	// The port the configuration never changed kept its address; `no ip address` removes
	// the configured one.
	if out := ns.MustRun(t, "ip", "-o", "-4", "addr", "show", "dev", "eth1"); !strings.Contains(out, " 198.51.100.7/24 ") {
		t.Errorf("eth1 lost the address Linux gave it:\n%s", out)
	}
	// Back up, a static route via a next hop on eth0's subnet goes into the kernel's table, marked
	// as the router's; `no ip route` removes it and leaves the route added by hand alone.
	ns.MustRun(t, "ip", "route", "add", "172.16.0.0/16", "via", "198.51.100.1", "dev", "eth1")
	r.send("configure terminal", "interface g0/0", "no shutdown", "exit", "ip route 10.9.0.0 255.255.0.0 10.20.30.254 7", "end")
	waitState(t, ns, "static route", func(s string) bool {
		return strings.Contains(s, "10.9.0.0/16 via 10.20.30.254 dev eth0 proto 84 metric 7")
	}, "ip", "-4", "route", "show")
	r.send("configure terminal", "no ip route 10.9.0.0 255.255.0.0 10.20.30.254", "end")
	waitState(t, ns, "static route removed", func(s string) bool { return !strings.Contains(s, "10.9.0.0/16") },
		"ip", "-4", "route", "show")
	if out := ns.MustRun(t, "ip", "-4", "route", "show", "172.16.0.0/16"); !strings.Contains(out, "172.16.0.0/16 via 198.51.100.1 dev eth1") {
		t.Errorf("the route added by hand is gone:\n%s", out)
	}

	r.send("configure terminal", "interface g0/0", "no ip address", "end")
	waitState(t, ns, "address removed from eth0", func(s string) bool { return !strings.Contains(s, "10.20.30.1") },
		"ip", "-o", "-4", "addr", "show", "dev", "eth0")

	r.send("exit")
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("tunnelbox exited with %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("tunnelbox did not exit after exit")
	}
}
