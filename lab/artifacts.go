package lab

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// KeepEnv names a directory where KeepArtifacts copies a failed test's files (pcaps, charon
// logs). Unset, nothing is kept: everything lives in temporary directories.
const KeepEnv = "TUNNELBOX_LAB_KEEP"

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// KeepArtifacts registers paths to copy into $TUNNELBOX_LAB_KEEP/<test name>/ when t fails
// (always, if the variable is set and TUNNELBOX_LAB_KEEP_ALL=1). Missing files are skipped.
// Call it after the files' owners (StartCapture, StartCharon) so the copy runs before their
// temporary directories are removed.
func KeepArtifacts(t testing.TB, paths ...string) {
	t.Helper()
	t.Cleanup(func() {
		dir := os.Getenv(KeepEnv)
		if dir == "" || (!t.Failed() && os.Getenv("TUNNELBOX_LAB_KEEP_ALL") != "1") {
			return
		}
		dst := filepath.Join(dir, unsafeName.ReplaceAllString(t.Name(), "_"))
		if err := os.MkdirAll(dst, 0o755); err != nil {
			t.Logf("keep artifacts: %v", err)
			return
		}
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			name := filepath.Join(dst, filepath.Base(filepath.Dir(p))+"-"+filepath.Base(p))
			if err := os.WriteFile(name, b, 0o644); err != nil {
				t.Logf("keep artifacts: %v", err)
				continue
			}
			t.Logf("kept %s", name)
		}
	})
}
