package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
)

// TestKillDuringWriteMemory kills the real binary with SIGKILL at random moments while its
// console keeps changing the configuration and saving it (`write memory`), for many rounds.
// Every restart must find a startup-config that is exactly one of the texts the router saved
// (all saves of the same hostname are the same text), never a torn or empty one, and the store
// must open cleanly. It complements running-config's store-level crash test with the whole
// appliance in the loop.
func TestKillDuringWriteMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("crash rounds take ~20 s")
	}
	bin := buildBinary(t)
	db := filepath.Join(t.TempDir(), "crash.db")
	rounds := 150
	rng := rand.New(rand.NewPCG(1, 2))
	texts := map[string]string{} // hostname -> the startup text saved with it
	hostRE := regexp.MustCompile(`(?m)^hostname (\S+)$`)
	saved := 0
	for r := 0; r < rounds; r++ {
		cmd := exec.Command(bin, "--db", db, "--ssh", "")
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			io.WriteString(stdin, "enable\n")
			for i := 0; ; i++ {
				h := fmt.Sprintf("R%d-%d", r, i%3)
				if _, err := io.WriteString(stdin, "conf t\nhostname "+h+"\nend\nwrite memory\n"); err != nil {
					return
				}
			}
		}()
		time.Sleep(time.Duration(rng.IntN(120)) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		stdin.Close()
		<-done

		st, err := runningconfig.OpenStore(db, time.Second)
		if err != nil {
			t.Fatalf("round %d: store does not open after SIGKILL: %v", r, err)
		}
		text, ok, err := st.Startup()
		st.Close()
		if err != nil {
			t.Fatalf("round %d: reading startup-config: %v", r, err)
		}
		if !ok {
			continue // killed before the first save ever completed
		}
		saved++
		if !strings.HasSuffix(text, "\nend\n") {
			t.Fatalf("round %d: startup-config is torn:\n%s", r, text)
		}
		m := hostRE.FindAllStringSubmatch(text, -1)
		if len(m) != 1 {
			t.Fatalf("round %d: startup-config has %d hostname lines:\n%s", r, len(m), text)
		}
		h := m[0][1]
		if prev, ok := texts[h]; ok && prev != text {
			t.Fatalf("round %d: two different texts saved for hostname %s:\n%s\n----\n%s", r, h, prev, text)
		}
		texts[h] = text
	}
	if saved < rounds/2 {
		t.Fatalf("only %d of %d rounds found a saved startup-config: the kill came too early to test anything", saved, rounds)
	}
	t.Logf("%d rounds, %d found a complete startup-config (%d distinct hostnames)", rounds, saved, len(texts))
}
