package runningconfig

import (
	"strings"
	"testing"
)

// TestLoggingPlacement: `logging buffered` renders right after the boot markers (before enable),
// `logging trap`/`logging host` after the named access lists, as IOS orders them.
func TestLoggingPlacement(t *testing.T) {
	c := Default()
	sec, err := HashSecret("s3cret", SecretMD5)
	if err != nil {
		t.Fatal(err)
	}
	c.EnableSecret = sec
	l := c.EnsureLogging()
	l.BufferedSize = 8192
	lvl := 3
	l.TrapLevel = &lvl
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	out := Render(c)
	i := strings.Index(out, "boot-end-marker\n!\nlogging buffered 8192\n!\nenable secret ")
	if i < 0 {
		t.Fatalf("logging buffered not between the boot markers and enable:\n%s", out)
	}
	if j := strings.Index(out, "logging trap errors\n"); j < 0 || j < strings.Index(out, "ip forward-protocol nd") {
		t.Fatalf("logging trap not after the routes and named ACLs:\n%s", out)
	}
}
