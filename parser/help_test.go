package parser

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

func words(items []HelpItem) string {
	var w []string
	for _, it := range items {
		w = append(w, it.Word)
	}
	return strings.Join(w, " ")
}

func TestHelpGroupNumericKeywordsSortAsStrings(t *testing.T) {
	g := fixture(t)
	items, err := g.Help(cfIK, 15, "group ?"[:len("group ")])
	if err != nil {
		t.Fatal(err)
	}
	if got, want := words(items), "1 14 15 16 19 2 20 21 24 5"; got != want {
		t.Errorf("group ? = %q, want %q", got, want)
	}
}

func TestHelpLayout(t *testing.T) {
	g := fixture(t)
	items, err := g.Help(cfIK, 15, "authentication ")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(FormatHelp(items), "\n")
	want := "  pre-share  Pre-Shared Key\n" +
		"  rsa-encr   Rivest-Shamir-Adleman Encryption\n" +
		"  rsa-sig    Rivest-Shamir-Adleman Signature"
	if got != want {
		t.Errorf("layout:\n%s\nwant:\n%s", got, want)
	}
	items, _ = g.Help(cfIK, 15, "encryption aes ")
	got = strings.Join(FormatHelp(items), "\n")
	want = "  128   128 bit keys.\n  192   192 bit keys.\n  256   256 bit keys.\n  <cr>"
	if got != "  128  128 bit keys.\n  192  192 bit keys.\n  256  256 bit keys.\n  <cr>" {
		t.Errorf("<cr> must not widen the column:\n%s\nnot:\n%s", got, want)
	}
}

func TestHelpPartialWord(t *testing.T) {
	g := fixture(t)
	tests := []struct {
		mode  *Mode
		priv  int
		line  string
		words string
	}{
		{exec, 15, "di", "dir disable disconnect"},
		{exec, 15, "DI", "dir disable disconnect"},
		{exec, 15, "sh", "show"},
		{exec, 15, "show i", "interfaces ip ipv6"},
		{exec, 15, "show ip", "ip ipv6"},
		{exec, 1, "show r", ""}, // running-config is invisible at level 1
		{exec, 15, "show r", "running-config"},
		{cfg, 15, "interface gi", "GigabitEthernet"},
		{cfg, 15, "interface t", "TenGigabitEthernet Tunnel"},
		{cfg, 15, "hostname R", "WORD"},
		{cfg, 15, "crypto isakmp policy 1", "<1-10000>"},
		{cfIK, 15, "group 1", "1 14 15 16 19"},
		{cfg, 15, "logging 10.", "Hostname or A.B.C.D"},
		{cfg, 15, "interface gi 0", "<0-255>"},
		{cfIf, 15, "description fo", "LINE"},
		{cfIf, 15, "description foo ba", "LINE"},
	}
	for _, tt := range tests {
		items, err := g.Help(tt.mode, tt.priv, tt.line)
		if tt.words == "" {
			if !errors.Is(err, ErrUnrecognized) {
				t.Errorf("%q: %v %q, want unrecognized", tt.line, err, words(items))
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.line, err)
			continue
		}
		if got := words(items); got != tt.words {
			t.Errorf("%q: %q, want %q", tt.line, got, tt.words)
		}
	}
	items, _ := g.Help(exec, 15, "di")
	if got := FormatWords(items); got != "dir  disable  disconnect  " {
		t.Errorf("FormatWords = %q", got)
	}
}

func TestHelpErrors(t *testing.T) {
	g := fixture(t)
	tests := []struct {
		mode *Mode
		line string
		kind ErrorKind
		pos  int
	}{
		{cfg, "show ip ", ErrUnrecognized, 0}, // ios-cli.md §2.2 item 5
		{exec, "xyz", ErrUnrecognized, 0},
		{exec, "xyz ", ErrUnrecognized, 0},
		{exec, "show xyz", ErrUnrecognized, len("show ")},
		{exec, "show xyz ", ErrInvalid, len("show ")},
		{exec, "show i ", ErrAmbiguous, len("show ")},
		{exec, "show ip interfaces ", ErrInvalid, len("show ip interface")},
		{cfIf, "zz ", ErrUnrecognized, 0},
	}
	for _, tt := range tests {
		items, err := g.Help(tt.mode, 15, tt.line)
		var pe *Error
		if !errors.As(err, &pe) || pe.Kind != tt.kind || pe.Pos != tt.pos {
			t.Errorf("%s %q: %v (%q), want %v at %d", tt.mode.Name, tt.line, err, words(items), tt.kind, tt.pos)
		}
	}
}

// helpCases are rendered into testdata/help.golden.
var helpCases = []struct {
	mode *Mode
	priv int
	line string
}{
	{exec, 15, ""},
	{exec, 1, ""},
	{exec, 15, "show "},
	{exec, 1, "show "},
	{exec, 15, "show ip "},
	{exec, 15, "show crypto ipsec sa "},
	{exec, 15, "show access-lists "},
	{exec, 15, "sh ver "},
	{exec, 15, "ping "},
	{exec, 15, "ping 10.0.0.1 "},
	{exec, 15, "ping 10.0.0.1 source "},
	{exec, 15, "no "},
	{exec, 15, "enable "},
	{exec, 15, "terminal length "},
	{cfg, 15, ""},
	{cfg, 15, "crypto isakmp policy "},
	{cfg, 15, "crypto map "},
	{cfg, 15, "crypto map M "},
	{cfg, 15, "crypto map M 10 "},
	{cfg, 15, "crypto isakmp key k address 10.0.0.2 "},
	{cfg, 15, "access-list "},
	{cfg, 15, "access-list 10 "},
	{cfg, 15, "interface "},
	{cfg, 15, "interface GigabitEthernet "},
	{cfg, 15, "interface lo "},
	{cfg, 15, "ip route 0.0.0.0 0.0.0.0 "},
	{cfg, 15, "logging "},
	{cfg, 15, "no "},
	{cfg, 15, "line vty 0 "},
	{cfIf, 15, ""},
	{cfIf, 15, "description "},
	{cfIf, 15, "description to R2 "},
	{cfIf, 15, "ip "},
	{cfIf, 15, "default "},
	{cfIK, 15, ""},
	{cfIK, 15, "authentication "},
	{cfIK, 15, "encryption "},
	{cfIK, 15, "encryption aes "},
	{cfIK, 15, "group "},
	{cfIK, 15, "hash "},
	{cfIK, 15, "lifetime "},
	{cfLn, 15, "transport input "},
	{cfLn, 15, "transport input ssh "},
	{cfCM, 15, "set "},
	{cfCM, 15, "set transform-set A B "},
	{cfCM, 15, "match address "},
}

func renderHelp(g *Grammar) string {
	var b strings.Builder
	for _, hc := range helpCases {
		fmt.Fprintf(&b, "== %s priv %d %q?\n", hc.mode.Name, hc.priv, hc.line)
		items, err := g.Help(hc.mode, hc.priv, hc.line)
		if err != nil {
			fmt.Fprintf(&b, "error: %v\n", err)
			continue
		}
		for _, l := range FormatHelp(items) {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func TestHelpGolden(t *testing.T) {
	got := renderHelp(fixture(t))
	path := filepath.Join("testdata", "help.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if got != string(want) {
		t.Errorf("help differs from %s (go test -run TestHelpGolden -update to accept):\n%s", path, diff(string(want), got))
	}
}

// diff shows the first differing line of two texts.
func diff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\nwant %q\ngot  %q", i+1, w, g)
		}
	}
	return ""
}

func TestComplete(t *testing.T) {
	g := fixture(t)
	tests := []struct {
		mode *Mode
		priv int
		line string
		want string // "" = no completion
	}{
		{exec, 15, "copy ru", "copy running-config "},
		{exec, 15, "copy ru st", "copy ru startup-config "},
		{exec, 15, "conf", "configure "},
		{exec, 15, "Conf", "configure "},
		{exec, 15, "sh i", ""},
		{exec, 15, "show ip", "show ip "}, // exact keyword wins over ipv6
		{exec, 15, "di", ""},
		{exec, 15, "dir", "dir "},
		{exec, 15, "conf ", ""},
		{exec, 15, "", ""},
		{exec, 15, "xyz", ""},
		{exec, 1, "conf", ""}, // invisible at level 1
		{exec, 1, "sh r", ""},
		{exec, 15, "sh r", "sh running-config "},
		{cfg, 15, "hostname R", ""},
		{cfg, 15, "crypto isakmp policy 1", ""},
		{cfg, 15, "int gi", "int GigabitEthernet"},
		{cfg, 15, "int lo", "int Loopback"},
		{cfg, 15, "int t", "int Tunnel"}, // "t" resolves to Tunnel, as in matching
		{cfg, 15, "int te", "int TenGigabitEthernet"},
		{cfg, 15, "int gi0/0", ""},
		{cfIf, 15, "shut", "shutdown "},
		{cfIf, 15, "host", "hostname "}, // falls through to config
		{cfIK, 15, "group 2", "group 2 "},
		{cfIK, 15, "group 1", "group 1 "}, // exact, though 14, 15... extend it
		{cfIK, 15, "group 3", ""},
	}
	for _, tt := range tests {
		got, ok := g.Complete(tt.mode, tt.priv, tt.line)
		if tt.want == "" {
			if ok || got != tt.line {
				t.Errorf("%q: completed to %q", tt.line, got)
			}
			continue
		}
		if !ok || got != tt.want {
			t.Errorf("%q: %q, %v; want %q", tt.line, got, ok, tt.want)
		}
	}
}
