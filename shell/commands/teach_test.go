package commands_test

import (
	"regexp"
	"strings"
	"testing"
)

var (
	teachArrowRE   = regexp.MustCompile(`^  \|(?:-- (\S+) -+>|<-+ (\S+) --)\|`)
	teachFormulaRE = regexp.MustCompile(`^  \|\s+\|\s+(HASH_I|HASH_R|HASH\([123]\)) = prf\(`)
	teachVerdictRE = regexp.MustCompile(`^  \|\s+\|\s+= [0-9A-F]+ \(matches the HASH payload\)$`)
	teachRawHashRE = regexp.MustCompile(`^  \|\s+\|\s+HASH: `)
)

// teachHashes maps each message of a teaching view to the hash formula it shows ("" when it
// shows none); it fails t on a formula whose value differs from the payload and on a HASH
// payload the view could not recompute.
func teachHashes(t *testing.T, view string) (order []string, formula map[string]string) {
	t.Helper()
	formula = map[string]string{}
	lines := strings.Split(view, "\n")
	cur := ""
	for i, l := range lines {
		switch m := teachArrowRE.FindStringSubmatch(l); {
		case m != nil:
			cur = m[1] + m[2]
			order = append(order, cur)
			formula[cur] = ""
		case teachRawHashRE.MatchString(l):
			t.Errorf("%s: HASH payload shown without its formula: %q", cur, l)
		case teachFormulaRE.MatchString(l):
			formula[cur] = teachFormulaRE.FindStringSubmatch(l)[1]
			if i+1 >= len(lines) || !teachVerdictRE.MatchString(lines[i+1]) {
				t.Errorf("%s: %s not confirmed by its payload: %q", cur, formula[cur], lines[min(i+1, len(lines)-1)])
			}
		}
	}
	return order, formula
}

// TestTeachAggressiveHashes: in Aggressive Mode the initiator's HASH_I travels in AM3, which
// carries no identity; the view must still recompute it (over AM1's IDii_b), on both sides,
// as it does HASH_R in AM2 and the Quick Mode hashes.
func TestTeachAggressiveHashes(t *testing.T) {
	g1, g2 := defaultGateways()
	r := newRig(t, g1, g2)
	if err := r.r1.e.Initiate("CMAP", 10, true); err != nil {
		t.Fatal(err)
	}
	r.waitPairs(1, 0)
	r.settle()
	want := map[string]string{"AM1": "", "AM2": "HASH_R", "AM3": "HASH_I", "QM1": "HASH(1)", "QM2": "HASH(2)", "QM3": "HASH(3)"}
	for _, rt := range []*router{r.r1, r.r2} {
		c := newTerm(rt.app, "con 0")
		c.run("show crypto isakmp exchange")
		c.s.Close()
		order, got := teachHashes(t, c.b.String())
		if strings.Join(order, " ") != "AM1 AM2 AM3 QM1 QM2 QM3" {
			t.Errorf("%s ladder %v", rt.name, order)
		}
		for msg, f := range want {
			if got[msg] != f {
				t.Errorf("%s %s: formula %q, want %q\n%s", rt.name, msg, got[msg], f, c.b.String())
			}
		}
	}
}
