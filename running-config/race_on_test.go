//go:build race

package runningconfig

// raceEnabled scales the multi-process tests down under the race detector (each child is ~5x slower).
const raceEnabled = true
