package runningconfig

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
)

// TestCowAgainstModel drives the copy-on-write collection with seeded random inserts, edits and
// deletes across a chain of clones, and compares every generation with a plain map: a clone
// never sees its successors' edits and the chunks stay ordered.
func TestCowAgainstModel(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	type gen struct {
		c     cow[int]
		model map[string]int
	}
	var gens []gen
	cur := cow[int]{}
	model := map[string]int{}
	for g := 0; g < 40; g++ {
		for op := 0; op < 60; op++ {
			k := fmt.Sprintf("k%04d", r.Intn(400))
			switch r.Intn(3) {
			case 0:
				if p := cur.mut(k); p != nil {
					*p++
					model[k]++
				} else {
					*cur.insert(k, 0) = 1
					model[k] = 1
				}
			case 1:
				if got, want := cur.delete(k), model[k] != 0 || hasKey(model, k); got != want {
					t.Fatalf("delete %s = %v, want %v", k, got, want)
				}
				delete(model, k)
			default:
				if p := cur.get(k); (p != nil) != hasKey(model, k) || p != nil && *p != model[k] {
					t.Fatalf("get %s = %v, model %v", k, p, model[k])
				}
			}
		}
		gens = append(gens, gen{cur, clone(model)})
		cur = cur.clone()
	}
	for i, g := range gens {
		var keys []string
		g.c.each(func(k string, v *int) bool {
			if g.model[k] != *v {
				t.Errorf("generation %d: %s = %d, want %d", i, k, *v, g.model[k])
			}
			keys = append(keys, k)
			return true
		})
		if !slices.IsSorted(keys) || len(keys) != len(g.model) || g.c.len() != len(g.model) {
			t.Errorf("generation %d: %d keys (len %d), model %d, sorted %v", i, len(keys), g.c.len(), len(g.model), slices.IsSorted(keys))
		}
		for _, ch := range g.c.chunks {
			if len(ch.items) == 0 || len(ch.items) > cowMax {
				t.Errorf("generation %d: chunk of %d items", i, len(ch.items))
			}
		}
	}
}

func hasKey(m map[string]int, k string) bool { _, ok := m[k]; return ok }

func clone(m map[string]int) map[string]int {
	n := make(map[string]int, len(m))
	for k, v := range m {
		n[k] = v
	}
	return n
}

// TestCryptoCloneIsolation: editing a clone of a large crypto part (entries, their slices,
// transform sets) leaves the original's rendering untouched.
func TestCryptoCloneIsolation(t *testing.T) {
	c := Default()
	k := c.EnsureCrypto()
	if _, err := k.SetTransformSet("TS", []string{"esp-aes", "256", "esp-sha-hmac"}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 300; i++ {
		e, _ := k.EnsureMapEntry(fmt.Sprintf("M%d", i%5), i)
		e.Peers = []string{fmt.Sprintf("10.0.%d.%d", i/256, i%256)}
		e.TransformSets = []string{"TS"}
		l, err := c.EnsureACL(fmt.Sprint(100+i%100), ACLExtended, true)
		if err != nil {
			t.Fatal(err)
		}
		_ = l.Add(ACE{Permit: true, Proto: ProtoIP, Src: HostAddr(u32Addr(uint32(i))), Dst: AnyAddr})
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	before := Render(c)
	n := c.Clone()
	nk := n.Crypto()
	e, created := nk.EnsureMapEntry("M3", 3)
	if created {
		t.Fatal("entry M3 3 should exist")
	}
	e.Peers = append(slices.Clip(e.Peers), "192.0.2.1")
	nk.DeleteMap("M4", 0)
	nk.EditTransformSet("TS").Transport = true
	l, _ := n.EnsureACL("101", ACLExtended, true)
	l.DeleteSeq(10)
	_ = l.Add(ACE{Remark: "changed"})
	if err := n.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := Render(c); got != before {
		t.Fatal("editing the clone changed the original")
	}
	after := Render(n)
	for _, want := range []string{" set peer 192.0.2.1", " mode transport", "access-list 101 remark changed"} {
		if !strings.Contains(after, want) {
			t.Errorf("clone lacks %q", want)
		}
	}
	if strings.Contains(after, "crypto map M4 ") {
		t.Error("clone still has map M4")
	}
}

// TestValidateCatchesBadEdits: values edited out of range through the returned pointers are
// refused by Validate on the next check.
func TestValidateCatchesBadEdits(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(c *Config)
	}{
		{"pfs group", func(c *Config) { e, _ := c.EnsureCrypto().EnsureMapEntry("M", 1); e.PFSGroup = 3 }},
		{"entry renamed", func(c *Config) { e, _ := c.EnsureCrypto().EnsureMapEntry("M", 1); e.Seq = 2 }},
		{"missing transform set", func(c *Config) { e, _ := c.EnsureCrypto().EnsureMapEntry("M", 1); e.TransformSets = []string{"X"} }},
		{"lifetime", func(c *Config) { e, _ := c.EnsureCrypto().EnsureMapEntry("M", 1); e.LifetimeSecs = 10 }},
		{"policy group", func(c *Config) { p, _ := c.EnsureCrypto().EnsurePolicy(10); p.Group = 7 }},
		{"key", func(c *Config) { c.EnsureCrypto().SetKey(ISAKMPKey{Key: "a b", Hostname: "x"}) }},
		{"transform edited", func(c *Config) {
			t, _ := c.EnsureCrypto().SetTransformSet("T", []string{"esp-gcm"})
			t.ESPAuth = "esp-sha-hmac"
		}},
		{"acl wildcard", func(c *Config) {
			l, _ := c.EnsureACL("101", ACLExtended, true)
			l.Entries = []ACE{{Seq: 10, Permit: true, Proto: ProtoIP, Src: Wildcard{Addr: u32Addr(0x0a000001), Bits: 0xff}, Dst: AnyAddr}}
		}},
		{"acl order", func(c *Config) {
			l, _ := c.EnsureACL("101", ACLExtended, true)
			e := ACE{Permit: true, Proto: ProtoIP, Src: AnyAddr, Dst: AnyAddr}
			l.Entries = []ACE{e, e}
			l.Entries[0].Seq, l.Entries[1].Seq = 20, 10
		}},
		{"standard list with ports", func(c *Config) {
			l, _ := c.EnsureACL("10", ACLStandard, true)
			l.Entries = []ACE{{Seq: 10, Permit: true, Proto: ProtoTCP, Src: AnyAddr}}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := Default()
			c.edit(cfg)
			if err := cfg.Validate(); err == nil {
				t.Fatal("Validate accepted the bad edit")
			}
		})
	}
}

// TestACLRemarksTakeNoNumber: remarks stand before the rule that follows and do not use a
// sequence number; deleting a rule by number takes its remarks along.
func TestACLRemarksTakeNoNumber(t *testing.T) {
	l := &ACL{Name: "X", Kind: ACLExtended}
	rule := func(a uint32) ACE { return ACE{Permit: true, Proto: ProtoIP, Src: HostAddr(u32Addr(a)), Dst: AnyAddr} }
	for _, e := range []ACE{{Remark: "first"}, rule(1), {Remark: "second"}, {Remark: "again"}, rule(2)} {
		if err := l.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, e := range l.Entries {
		got = append(got, fmt.Sprintf("%d %s", e.Seq, e.Text(l.Kind, false)))
	}
	want := []string{"10 remark first", "10 permit ip host 0.0.0.1 any", "20 remark second", "20 remark again", "20 permit ip host 0.0.0.2 any"}
	if !slices.Equal(got, want) {
		t.Fatalf("entries\n%q\nwant\n%q", got, want)
	}
	if err := l.check(); err != nil {
		t.Fatal(err)
	}
	if err := l.Add(ACE{Seq: 20, Permit: false, Proto: ProtoIP, Src: AnyAddr, Dst: AnyAddr}); err != ErrDuplicateSeq {
		t.Fatalf("taken number: %v", err)
	}
	if !l.DeleteSeq(20) || len(l.Entries) != 2 {
		t.Fatalf("after no 20: %v", l.Entries)
	}
}
