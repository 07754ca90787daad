package runningconfig

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

const testLock = 200 * time.Millisecond

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tunnelbox.db")
	s, err := OpenStore(path, testLock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestStoreStartupRoundTrip(t *testing.T) {
	s, path := openTemp(t)
	if _, ok, err := s.Startup(); ok || err != nil {
		t.Fatalf("fresh store has a startup-config (ok=%v, err=%v)", ok, err)
	}
	text := StartupText(fullConfig(t))
	if err := s.SaveStartup(text); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := s.Startup(); !ok || err != nil || got != text {
		t.Fatalf("Startup() = %d bytes, %v, %v", len(got), ok, err)
	}
	if at, err := s.SavedAt(); err != nil || at.IsZero() {
		t.Errorf("SavedAt() = %v, %v", at, err)
	}
	s.Close()
	s2, err := OpenStore(path, testLock)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got, ok, _ := s2.Startup(); !ok || got != text {
		t.Fatal("startup-config lost across reopen")
	}
	if err := s2.EraseStartup(); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s2.Startup(); ok || err != nil {
		t.Fatalf("after erase: ok=%v err=%v", ok, err)
	}
	if at, _ := s2.SavedAt(); !at.IsZero() {
		t.Error("SavedAt survives erase")
	}
	if revs, _ := s2.Archive(); len(revs) != 1 || revs[0].Text != text {
		t.Error("erase must keep the archive")
	}
	if err := s2.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestStoreArchiveBounded(t *testing.T) {
	s, _ := openTemp(t)
	for i := 1; i <= ArchiveRevisions+5; i++ {
		if err := s.SaveStartup(fmt.Sprintf("!\nhostname R%d\nend\n", i)); err != nil {
			t.Fatal(err)
		}
	}
	revs, err := s.Archive()
	if err != nil {
		t.Fatal(err)
	}
	if len(revs) != ArchiveRevisions {
		t.Fatalf("%d revisions, want %d", len(revs), ArchiveRevisions)
	}
	for i, r := range revs {
		n := uint64(i + 6)
		if r.Seq != n || r.Text != fmt.Sprintf("!\nhostname R%d\nend\n", n) || r.Saved.IsZero() {
			t.Errorf("revision %d = %+v", i, r)
		}
		if i > 0 && r.Saved.Before(revs[i-1].Saved) {
			t.Errorf("revision %d saved before its predecessor", i)
		}
	}
}

func TestStoreHostKey(t *testing.T) {
	s, path := openTemp(t)
	k1, err := s.HostKey()
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(k1)
	if blk == nil {
		t.Fatalf("host key is not PEM: %q", k1)
	}
	key, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if _, ok := key.(ed25519.PrivateKey); err != nil || !ok {
		t.Fatalf("host key: %T, %v", key, err)
	}
	k2, _ := s.HostKey()
	s.Close()
	s2, err := OpenStore(path, testLock)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	k3, _ := s2.HostKey()
	if !bytes.Equal(k1, k2) || !bytes.Equal(k1, k3) {
		t.Fatal("host key changed between calls or across reopen")
	}
}

func TestStoreInUseSameProcess(t *testing.T) {
	_, path := openTemp(t)
	_, err := OpenStore(path, 50*time.Millisecond)
	if !errors.Is(err, ErrStoreInUse) {
		t.Fatalf("second open: %v, want ErrStoreInUse", err)
	}
	want := "running-config: store " + path + " is in use by another process"
	if err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
}

// TestStoreHelperProcess is the child side of the multi-process tests: it does nothing unless
// started by them with TUNNELBOX_STORE_CHILD set.
func TestStoreHelperProcess(t *testing.T) {
	mode := os.Getenv("TUNNELBOX_STORE_CHILD")
	if mode == "" {
		t.Skip("helper process for the store tests")
	}
	variants := crashVariants()
	s, err := OpenStore(os.Getenv("TUNNELBOX_STORE_PATH"), time.Second)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	fmt.Println("ready")
	switch mode {
	case "hold":
		select {}
	case "save-loop":
		for i := 0; ; i++ {
			if err := s.SaveStartup(variants[i%len(variants)]); err != nil {
				fmt.Println("error:", err)
				os.Exit(3)
			}
			if i == 0 {
				fmt.Println("saved") // the parent may wait for this to be sure a save is in flight
			}
		}
	}
	os.Exit(4)
}

// startChild runs the test binary as a helper in mode and waits for it to report ready. The
// reader gives the child's further output lines.
func startChild(t *testing.T, mode, path string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestStoreHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TUNNELBOX_STORE_CHILD="+mode, "TUNNELBOX_STORE_PATH="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(out)
	line, err := rd.ReadString('\n')
	if err != nil || line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child did not start: %q, %v", line, err)
	}
	return cmd, rd
}

func TestStoreInUseOtherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tunnelbox.db")
	child, _ := startChild(t, "hold", path)
	defer func() { child.Process.Kill(); child.Wait() }()
	_, err := OpenStore(path, 100*time.Millisecond)
	if !errors.Is(err, ErrStoreInUse) || !strings.Contains(err.Error(), path+" is in use by another process") {
		t.Fatalf("open while another process holds it: %v", err)
	}
	child.Process.Kill()
	child.Wait()
	s, err := OpenStore(path, testLock)
	if err != nil {
		t.Fatalf("open after the holder died: %v", err)
	}
	s.Close()
}

// crashVariants are three large, different startup-configs (about 25, 60 and 140 KB, so each
// save spans many pages).
func crashVariants() []string {
	var out []string
	for i, n := range []int{200, 500, 1200} {
		c := Default()
		c.Hostname = fmt.Sprintf("CRASH%d", i)
		for j := 0; j < n; j++ {
			f := c.EnsureInterface(fmt.Sprintf("GigabitEthernet%d/%d", i, j))
			f.Description = fmt.Sprintf("variant %d port %d", i, j)
		}
		out = append(out, StartupText(c))
	}
	return out
}

// TestStoreCrashSafety kills a child that saves alternating large configs in a loop at random
// moments, then checks that the store opens, passes bbolt's consistency check, and holds
// exactly one of the texts written (never a torn mix), for hundreds of rounds.
func TestStoreCrashSafety(t *testing.T) {
	rounds := 200
	switch {
	case testing.Short():
		rounds = 25
	case raceEnabled:
		rounds = 80
	}
	path := filepath.Join(t.TempDir(), "tunnelbox.db")
	variants := crashVariants()
	valid := func(s string) bool {
		for _, v := range variants {
			if s == v {
				return true
			}
		}
		return false
	}
	saved := 0
	for r := 0; r < rounds; r++ {
		child, out := startChild(t, "save-loop", path)
		if r%2 == 1 {
			// Odd rounds kill while a later save is in flight, whatever the machine's speed;
			// even rounds may also hit the very first save.
			if line, err := out.ReadString('\n'); err != nil || line != "saved\n" {
				t.Fatalf("round %d: child said %q, %v", r, line, err)
			}
		}
		time.Sleep(time.Duration(rand.IntN(15000)) * time.Microsecond)
		if err := child.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err := child.Wait()
		if ws, ok := child.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("round %d: child ended on its own: %v", r, err)
		}
		s, err := OpenStore(path, testLock)
		if err != nil {
			t.Fatalf("round %d: reopen after kill: %v", r, err)
		}
		if err := s.Check(); err != nil {
			t.Fatalf("round %d: %v", r, err)
		}
		text, ok, err := s.Startup()
		if err != nil {
			t.Fatalf("round %d: %v", r, err)
		}
		if ok {
			saved++
			if !valid(text) {
				t.Fatalf("round %d: torn startup-config (%d bytes)", r, len(text))
			}
		}
		revs, err := s.Archive()
		if err != nil || len(revs) > ArchiveRevisions {
			t.Fatalf("round %d: archive %d revisions, %v", r, len(revs), err)
		}
		for _, rev := range revs {
			if !valid(rev.Text) {
				t.Fatalf("round %d: torn archive revision %d", r, rev.Seq)
			}
		}
		s.Close()
	}
	if saved == 0 {
		t.Fatal("no round saved anything before the kill: the test did not exercise a write")
	}
	t.Logf("%d rounds, %d with a saved startup-config", rounds, saved)
}

func TestStoreRefusesForeignFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	boltWith := func(name string, fill func(tx *bolt.Tx) error) string {
		p := filepath.Join(dir, name)
		db, err := bolt.Open(p, 0o600, &bolt.Options{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Update(fill); err != nil {
			t.Fatal(err)
		}
		db.Close()
		return p
	}
	random := make([]byte, 4*4096)
	for i := range random {
		random[i] = byte(rand.IntN(256))
	}
	// A real store whose two meta pages are overwritten.
	s, damaged := openTemp(t)
	if err := s.SaveStartup("!\nend\n"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	raw, _ := os.ReadFile(damaged)
	for i := 16; i < 64; i++ {
		raw[i], raw[4096+i] = 0xA5, 0x5A
	}
	damaged = write("damaged.db", raw)

	cases := []struct {
		name string
		path string
		want error
	}{
		{"text file", write("config.txt", []byte("hostname R1\nend\n")), ErrStoreCorrupt},
		{"random bytes", write("random.db", random), ErrStoreCorrupt},
		{"tiny", write("tiny.db", []byte{1}), ErrStoreCorrupt},
		{"damaged meta pages", damaged, ErrStoreCorrupt},
		{"other program's bbolt", boltWith("other.db", func(tx *bolt.Tx) error {
			_, err := tx.CreateBucket([]byte("users"))
			return err
		}), ErrStoreCorrupt},
		{"newer format", boltWith("newer.db", func(tx *bolt.Tx) error {
			if err := initBuckets(tx); err != nil {
				return err
			}
			return tx.Bucket(bucketMeta).Put(keyFormat, []byte("2"))
		}), ErrStoreVersion},
		{"garbage format", boltWith("garbage.db", func(tx *bolt.Tx) error {
			if err := initBuckets(tx); err != nil {
				return err
			}
			return tx.Bucket(bucketMeta).Put(keyFormat, []byte("1x"))
		}), ErrStoreCorrupt},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, err := os.ReadFile(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			s, err := OpenStore(tc.path, testLock)
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.path) {
				t.Fatalf("OpenStore = %v, want %v naming the file", err, tc.want)
			}
			after, _ := os.ReadFile(tc.path)
			if !bytes.Equal(before, after) {
				t.Fatal("OpenStore modified a file it refused")
			}
		})
	}
}

func TestStoreAdoptsEmptyBolt(t *testing.T) {
	// A bbolt file with no buckets is what a crash right after bbolt's own initialisation
	// leaves: it is adopted as a new store.
	p := filepath.Join(t.TempDir(), "empty.db")
	db, err := bolt.Open(p, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := OpenStore(p, testLock)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.SaveStartup("!\nend\n"); err != nil {
		t.Fatal(err)
	}
}

func TestStoreCreateLeavesNoTempFiles(t *testing.T) {
	s, path := openTemp(t)
	s.Close()
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 || ents[0].Name() != "tunnelbox.db" {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("directory holds %v", names)
	}
}
