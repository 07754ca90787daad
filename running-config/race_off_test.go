//go:build !race

package runningconfig

const raceEnabled = false
