package isakmp

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDumpGolden pins Dump of every vector message (decrypted where encrypted) to
// testdata/golden/<vector>/<message>.txt; go test -run TestDumpGolden -update rewrites them.
func TestDumpGolden(t *testing.T) {
	for _, file := range []string{"vector-pfs.json", "vector-nopfs.json"} {
		v := loadVector(t, file)
		dir := filepath.Join("testdata", "golden", file[:len(file)-len(".json")])
		for _, vm := range v.Messages {
			t.Run(file+"/"+vm.Name, func(t *testing.T) {
				m := parseVector(t, &vm)
				got := m.Dump()
				path := filepath.Join(dir, vm.Name+".txt")
				if *update {
					if err := os.MkdirAll(dir, 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (go test -run TestDumpGolden -update)", err)
				}
				if got != string(want) {
					t.Errorf("Dump differs from %s:\n%s\nwant:\n%s", path, got, want)
				}
			})
		}
	}
	enc, err := Parse(unhex(t, loadVector(t, "vector-pfs.json").msg("QM3").ISAKMP))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := enc.Dump(), "ISAKMP f828acc4c08783c5/e60a5f9dc30da69a QUICK_MODE flags=E msgid=c8d9cfa4 len=76\n  encrypted, first payload HASH, 48 octets\n"; got != want {
		t.Errorf("Dump of an encrypted message:\n%q\nwant\n%q", got, want)
	}
}
