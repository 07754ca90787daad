package bench

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tunnelbox/tunnelbox/lab"
)

// UDPStats are the UDP counters of one network namespace (/proc/net/snmp, "Udp:" lines).
type UDPStats struct {
	InDatagrams, RcvbufErrors, InErrors uint64
}

// ParseSNMP returns the Udp counters from the text of /proc/net/snmp: a header line of names
// followed by a line of values, both starting with "Udp:".
func ParseSNMP(s string) (UDPStats, error) {
	var names []string
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = f[1:]
			continue
		}
		if len(f)-1 != len(names) {
			return UDPStats{}, &ParseError{What: "snmp", Msg: fmt.Sprintf("%d Udp names, %d values", len(names), len(f)-1)}
		}
		var st UDPStats
		found := 0
		for i, n := range names {
			var dst *uint64
			switch n {
			case "InDatagrams":
				dst = &st.InDatagrams
			case "RcvbufErrors":
				dst = &st.RcvbufErrors
			case "InErrors":
				dst = &st.InErrors
			default:
				continue
			}
			v, err := strconv.ParseUint(f[i+1], 10, 64)
			if err != nil {
				return UDPStats{}, &ParseError{What: "snmp", Msg: "bad Udp " + n + " " + strconv.Quote(f[i+1])}
			}
			*dst = v
			found++
		}
		if found != 3 {
			return UDPStats{}, &ParseError{What: "snmp", Msg: "Udp lines lack InDatagrams, RcvbufErrors or InErrors"}
		}
		return st, nil
	}
	return UDPStats{}, &ParseError{What: "snmp", Msg: "no Udp lines"}
}

// NetnsUDP reads the UDP counters of ns.
func NetnsUDP(ns *lab.Netns) (UDPStats, error) {
	out, err := ns.Run("cat", "/proc/net/snmp")
	if err != nil {
		return UDPStats{}, err
	}
	return ParseSNMP(out)
}
