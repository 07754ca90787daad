package userspace

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/tunnelbox/tunnelbox/lab"
)

// New gives the TUN device a transmit queue of TxQueueLen packets, its MTU, and brings it up:
// with Linux's default of 500 a TCP burst into the tunnel overflowed the queue.
func TestTUNDeviceSettings(t *testing.T) {
	lab.RequireRoot(t)
	lab.RequireCommands(t, "ip")
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		lab.Unavailable(t, "needs /dev/net/tun")
	}
	ns := fmt.Sprintf("tbxQ%d", os.Getpid())
	ipCmd(t, "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	var b *Backend
	var attrs netlink.LinkAttrs
	inNS(t, ns, func() error {
		var err error
		b, err = New(Config{TUNName: "tbxq", MTU: 1380, Send: func(p []byte, _ netip.AddrPort) (int, error) { return len(p), nil }})
		if err != nil {
			return err
		}
		h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
		if err != nil {
			return err
		}
		defer h.Close()
		l, err := h.LinkByName("tbxq")
		if err != nil {
			return err
		}
		attrs = *l.Attrs()
		return nil
	})
	defer b.Close()
	if attrs.TxQLen != TxQueueLen || attrs.MTU != 1380 || attrs.Flags&net.FlagUp == 0 {
		t.Errorf("tbxq: txqueuelen %d, mtu %d, flags %v; want %d, 1380, up", attrs.TxQLen, attrs.MTU, attrs.Flags, TxQueueLen)
	}
}
