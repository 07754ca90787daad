package shell_test

import (
	"fmt"
	"strings"
	"testing"

	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
)

// genStartup generates an IOS startup-config of about n lines: loopback interfaces with a
// description and an address, static routes, users with type 5 secrets, vty blocks.
func genStartup(n int) string {
	var b strings.Builder
	b.WriteString("!\nversion 15.6\nservice timestamps debug datetime msec\nhostname Bench\n!\n")
	lines := 5
	for i := 0; lines < n; i++ {
		switch i % 4 {
		case 0, 1:
			fmt.Fprintf(&b, "interface Loopback%d\n description bench loopback %d\n ip address 10.%d.%d.1 255.255.255.0\n!\n",
				i, i, (i/256)%256, i%256)
			lines += 4
		case 2:
			fmt.Fprintf(&b, "ip route 172.%d.%d.0 255.255.255.0 10.0.0.%d\n", 16+(i/256)%16, i%256, 1+i%250)
			lines++
		case 3:
			fmt.Fprintf(&b, "username user%d privilege %d secret 5 $1$abcd$Lr0fXShzTlV7BVE3XfGgq/\n", i, i%16)
			lines++
		}
	}
	b.WriteString("end\n")
	return b.String()
}

// TestReplayRoundTrip: a configuration rendered, replayed on a fresh router and rendered again
// is unchanged, and replay reports no failed line.
func TestReplayRoundTrip(t *testing.T) {
	app := newTestApp(t)
	runTranscript(t, app, "enable\nconf t\nhostname RT\nenable secret 5 $1$abcd$Lr0fXShzTlV7BVE3XfGgq/\n"+
		"username a privilege 15 password 0 pw\nusername b secret 5 $1$abcd$Lr0fXShzTlV7BVE3XfGgq/\n"+
		"no ip domain-lookup\ninterface gi0/1\ndescription to  core\nip address 10.0.0.1 255.255.255.0\n"+
		"ip address 10.0.1.1 255.255.255.0 secondary\nno shutdown\ninterface lo0\nip address 1.1.1.1 255.255.255.255\n"+
		"interface tunnel 5\nshutdown\nip route 0.0.0.0 0.0.0.0 10.0.0.254 250\nip route 192.168.0.0 255.255.0.0 Gi0/1\n"+
		"line con 0\nexec-timeout 0 0\nlogging synchronous\nline vty 0 15\nlogin local\ntransport input ssh telnet\n"+
		"privilege level 15\npassword 0 vtypw\nservice password-encryption\nend\n")
	want := runningconfig.StartupText(app.Config().Running())

	fresh := newTestApp(t)
	if errs := fresh.Replay(want); len(errs) != 0 {
		for _, e := range errs {
			t.Error(e)
		}
	}
	if got := runningconfig.StartupText(fresh.Config().Running()); got != want {
		t.Fatalf("replay changed the configuration\n--- got\n%s\n--- want\n%s", got, want)
	}
}

func TestReplayReportsBadLines(t *testing.T) {
	app := newTestApp(t)
	errs := app.Replay("hostname Good\ninterface gi0/0\n ip address 10.0.0.1 255.255.255.0\n frobnicate\nhostname 9bad\nend\n")
	if len(errs) != 2 || errs[0].LineNo != 4 || errs[1].LineNo != 5 {
		t.Fatalf("errors = %v", errs)
	}
	if got := app.Hostname(); got != "Good" {
		t.Errorf("hostname = %q: a bad line must change nothing", got)
	}
	if i := app.Config().Running().Interface("GigabitEthernet0/0"); i == nil || !i.Address.IsValid() {
		t.Errorf("lines after a bad one were not applied: %+v", i)
	}
}

func benchReplay(b *testing.B, n int) {
	text := genStartup(n)
	lines := strings.Count(text, "\n")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		app := newTestApp(b)
		b.StartTimer()
		if errs := app.Replay(text); len(errs) != 0 {
			b.Fatalf("replay errors: %v", errs[0])
		}
	}
	b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkReplay2000 and BenchmarkReplay20000 measure startup-config replay; the ratio of
// their ns/op shows whether replay stays linear in the configuration size.
func BenchmarkReplay2000(b *testing.B)  { benchReplay(b, 2000) }
func BenchmarkReplay20000(b *testing.B) { benchReplay(b, 20000) }
