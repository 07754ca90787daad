package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the tick counts in /proc (USER_HZ, what sysconf(_SC_CLK_TCK)
// returns): the kernel exports them in 1/100 s on every architecture Linux supports.
const userHZ = 100

// ProcCPU returns the CPU time (utime+stime, all threads) the process pid has used so far,
// from /proc/PID/stat.
func ProcCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("bench: %w", err)
	}
	return ParseProcStat(string(b))
}

// ParseProcStat returns utime+stime from the text of /proc/PID/stat. The command name (field
// 2) is in parentheses and may itself hold spaces and parentheses, so the fields are counted
// from the last ")".
func ParseProcStat(s string) (time.Duration, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 || !strings.Contains(s[:i], "(") {
		return 0, &ParseError{What: "proc stat", Msg: "no (comm) field"}
	}
	// After ")": field 3 (state) is f[0], so field n is f[n-3]; utime is 14, stime 15.
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, &ParseError{What: "proc stat", Msg: fmt.Sprintf("%d fields after comm, want at least 13", len(f))}
	}
	var ticks uint64
	for _, v := range f[11:13] {
		n, err := strconv.ParseUint(v, 10, 63)
		if err != nil {
			return 0, &ParseError{What: "proc stat", Msg: "bad tick count " + strconv.Quote(v)}
		}
		ticks += n
	}
	return ticksToDuration(ticks), nil
}

func ticksToDuration(t uint64) time.Duration { return time.Duration(t) * (time.Second / userHZ) }

// SystemBusy returns the busy CPU time of all CPUs together (user, nice, system, irq,
// softirq, steal) from /proc/stat: the difference over a run minus the processes measured is
// what everything else on the machine used meanwhile.
func SystemBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("bench: %w", err)
	}
	return ParseSystemStat(string(b))
}

// ParseSystemStat is SystemBusy on the text of /proc/stat.
func ParseSystemStat(s string) (time.Duration, error) {
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "cpu" {
			continue
		}
		if len(f) < 9 {
			return 0, &ParseError{What: "proc stat", Msg: "short cpu line"}
		}
		var ticks uint64
		// user nice system idle iowait irq softirq steal: skip idle (4) and iowait (5).
		for _, k := range []int{1, 2, 3, 6, 7, 8} {
			n, err := strconv.ParseUint(f[k], 10, 63)
			if err != nil {
				return 0, &ParseError{What: "proc stat", Msg: "bad tick count " + strconv.Quote(f[k])}
			}
			ticks += n
		}
		return ticksToDuration(ticks), nil
	}
	return 0, &ParseError{What: "proc stat", Msg: "no cpu line"}
}
