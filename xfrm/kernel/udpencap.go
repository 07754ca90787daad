package kernel

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// EnableUDPEncap turns on ESP-in-UDP decapsulation (RFC 3948) on a bound UDP socket, normally
// the IKE engine's port 4500 socket (a *net.UDPConn). The kernel then hands ESP datagrams to
// the state with their SPI and still delivers IKE datagrams (non-ESP marker first) and
// keepalives to the socket. Without it, inbound ESP in UDP never reaches the kernel states.
func EnableUDPEncap(c syscall.Conn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return fmt.Errorf("kernel: UDP encapsulation: %w", err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_UDP, unix.UDP_ENCAP, unix.UDP_ENCAP_ESPINUDP)
	}); err != nil {
		return fmt.Errorf("kernel: UDP encapsulation: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("kernel: UDP encapsulation: setsockopt UDP_ENCAP: %w", serr)
	}
	return nil
}
