package main

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/ike"
	"github.com/tunnelbox/tunnelbox/lab"
	"github.com/tunnelbox/tunnelbox/xfrm/kernel"
)

func TestResolveDataplane(t *testing.T) {
	noESP := func() error { return errors.New("kernel has no ESP support") }
	esp := func() error { return nil }
	for _, tc := range []struct {
		flag    string
		probe   func() error
		want    string
		why     string // substring of the reason auto gives
		wantErr string
	}{
		{"auto", esp, "kernel", "accepts ESP", ""},
		{"auto", noESP, "userspace", "refuses ESP states (kernel has no ESP support)", ""},
		{"kernel", esp, "kernel", "", ""},
		{"kernel", noESP, "", "", "--dataplane kernel: the kernel refuses ESP states (kernel has no ESP support); use --dataplane userspace"},
		{"userspace", esp, "userspace", "", ""},
		{"none", esp, "none", "", ""},
		{"fast", esp, "", "", `--dataplane "fast": unknown`},
	} {
		probed := false
		probe := func() error { probed = true; return tc.probe() }
		dp, why, err := resolveDataplane(tc.flag, probe)
		switch {
		case tc.wantErr != "":
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("%s: error %v, want %q", tc.flag, err, tc.wantErr)
			}
		case err != nil || dp != tc.want || !strings.Contains(why, tc.why) || (tc.why == "") != (why == ""):
			t.Errorf("%s: %q %q %v, want %q with reason containing %q", tc.flag, dp, why, err, tc.want, tc.why)
		}
		if want := tc.flag == "auto" || tc.flag == "kernel"; probed != want {
			t.Errorf("%s: probed %v, want %v (only auto and kernel look at the kernel)", tc.flag, probed, want)
		}
	}
}

// TestAutoFollowsTheKernel: on this machine auto picks what the kernel allows (userspace on the
// build host, whose kernel has no ESP; kernel inside lab/vm's Debian kernel), and the probe
// leaves no state in the caller's namespace.
func TestAutoFollowsTheKernel(t *testing.T) {
	lab.RequireRoot(t)
	err := probeKernelESP()
	dp, why, rerr := resolveDataplane("auto", probeKernelESP)
	if rerr != nil {
		t.Fatal(rerr)
	}
	want := "kernel"
	if err != nil {
		want = "userspace"
		if !errors.Is(err, kernel.ErrNoESP) {
			t.Logf("probe: %v (not a missing ESP)", err)
		}
	}
	if dp != want {
		t.Errorf("auto chose %s (%s), the probe said %v", dp, why, err)
	}
	if os.Getenv("TUNNELBOX_IN_VM") == "1" && dp != "kernel" {
		t.Errorf("auto chose %s inside the VM, whose kernel has ESP: %s", dp, why)
	}
	t.Logf("--dataplane auto: %s (%s)", dp, why)
}

func TestTestHooks(t *testing.T) {
	for _, tc := range []struct {
		env     map[string]string
		second  time.Duration
		corrupt bool
		notes   int
		wantErr bool
	}{
		{env: nil},
		{env: map[string]string{testSecondEnv: "50ms"}, second: 50 * time.Millisecond, notes: 1},
		{env: map[string]string{testCorruptKeysEnv: "1"}, corrupt: true, notes: 1},
		{env: map[string]string{testCorruptKeysEnv: "0"}},
		{env: map[string]string{testSecondEnv: "1s", testCorruptKeysEnv: "1"}, second: time.Second, corrupt: true, notes: 2},
		{env: map[string]string{testSecondEnv: "fast"}, wantErr: true},
		{env: map[string]string{testSecondEnv: "-1s"}, wantErr: true},
		{env: map[string]string{testCorruptKeysEnv: "yes"}, wantErr: true},
	} {
		var o ike.Options
		notes, err := testHooks(&o, func(k string) string { return tc.env[k] })
		if (err != nil) != tc.wantErr {
			t.Errorf("%v: error %v", tc.env, err)
			continue
		}
		if err != nil {
			if !strings.Contains(err.Error(), "TUNNELBOX_TEST_") {
				t.Errorf("%v: error %q does not name the variable", tc.env, err)
			}
			continue
		}
		if o.Second != tc.second || o.TestCorruptKeys != tc.corrupt || len(notes) != tc.notes {
			t.Errorf("%v: Second %v corrupt %v notes %q", tc.env, o.Second, o.TestCorruptKeys, notes)
		}
		for _, n := range notes {
			if !strings.Contains(n, "(test only)") {
				t.Errorf("note %q does not say it is a test hook", n)
			}
		}
	}
}
