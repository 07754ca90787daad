package parser

import (
	"fmt"
	"sync"
	"testing"
)

// Sessions match while commands are still being installed: each call sees a consistent
// snapshot (run with -race).
func TestConcurrentMatchAndInstall(t *testing.T) {
	g := fixture(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if _, err := g.Match(cfg, 15, "int gi0/0"); err != nil {
					errs <- err
					return
				}
				if _, err := g.Help(cfIf, 15, "ip "); err != nil {
					errs <- err
					return
				}
				g.Complete(exec, 15, "sh")
			}
		}()
	}
	for i := 0; i < 50; i++ {
		err := g.Install(cfg, c(15, fmt.Sprintf("zz%d (1-10)", i), "Test", "Value"))
		if err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if m, err := g.Match(cfg, 15, "zz49 3"); err != nil || m.Args.Words()[1] != "3" {
		t.Errorf("zz49 3: %v", err)
	}
}
