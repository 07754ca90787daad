package sshd

import (
	"context"
	"encoding/binary"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Request payloads, RFC 4254 §6. Decoded with ssh.Unmarshal, which rejects short and
// over-long payloads.
type (
	// See RFC 4254, section 6.2.
	ptyRequestMsg struct {
		Term     string
		Columns  uint32
		Rows     uint32
		Width    uint32
		Height   uint32
		Modelist string
	}
	// See RFC 4254, section 6.7.
	windowChangeMsg struct {
		Columns uint32
		Rows    uint32
		Width   uint32
		Height  uint32
	}
	// See RFC 4254, section 6.5.
	execMsg struct {
		Command string
	}
)

// maxCommand bounds an exec command line; IOS input lines are far shorter.
const maxCommand = 4096

func parsePTYRequest(b []byte) (m ptyRequestMsg, ok bool) {
	return m, ssh.Unmarshal(b, &m) == nil && len(m.Term) <= 256
}

func parseWindowChange(b []byte) (m windowChangeMsg, ok bool) {
	return m, ssh.Unmarshal(b, &m) == nil
}

func parseExec(b []byte) (m execMsg, ok bool) {
	return m, ssh.Unmarshal(b, &m) == nil && len(m.Command) <= maxCommand
}

// Terminal size limits: what a client asks is clamped to IOS's `terminal width|length`
// range so that a bogus pty-req cannot make the shell allocate or page absurdly.
const (
	maxColumns = 512
	maxRows    = 512
)

// connSession serves the channels of one authenticated connection (one vty line).
type connSession struct {
	s    *Server
	sc   *ssh.ServerConn
	line int
	priv int
	user string

	once sync.Once // only the first "session" channel gets the vty: IOS has one exec per line
}

func (cs *connSession) serve(chans <-chan ssh.NewChannel) {
	var wg sync.WaitGroup
	gone := make(chan struct{}) // closed when the connection has ended
	defer wg.Wait()
	defer close(gone)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only session channels are supported")
			continue
		}
		taken := true
		cs.once.Do(func() { taken = false })
		if taken {
			nc.Reject(ssh.ResourceShortage, "one session per vty line")
			continue
		}
		ch, reqs, err := nc.Accept()
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cs.channel(ch, reqs)
			// The vty session is over and its channel closed; the client disconnects on
			// its own (closing first would cut off its final messages, and OpenSSH would
			// report a broken pipe). One that lingers must not keep the vty line.
			t := time.NewTimer(cs.s.linger)
			defer t.Stop()
			select {
			case <-t.C:
				cs.sc.Close()
			case <-gone:
			}
		}()
	}
}

// lingerAfterExit is how long a client may keep the connection open after its session
// ended before the server drops it and frees the vty line.
const lingerAfterExit = 10 * time.Second

// channel handles the requests of the session channel until a shell or exec has run.
func (cs *connSession) channel(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	size := newSizeBox()
	ctx, cancel := context.WithCancel(cs.s.ctx)
	defer cancel()
	started := false
	done := make(chan uint32, 1)
	for {
		select {
		case req, ok := <-reqs:
			if !ok {
				// The client closed the channel (or the connection died).
				cancel()
				if started {
					<-done
				}
				return
			}
			ok = cs.request(ctx, ch, req, size, &started, done)
			if req.WantReply {
				req.Reply(ok, nil)
			}
		case status := <-done:
			started = false
			sendExitStatus(ch, status)
			// Closing the write side tells the client the output is complete.
			ch.CloseWrite()
			return
		}
	}
}

// request handles one channel request and reports whether it is accepted.
func (cs *connSession) request(ctx context.Context, ch ssh.Channel, req *ssh.Request, size *sizeBox,
	started *bool, done chan<- uint32) bool {
	switch req.Type {
	case "pty-req":
		m, ok := parsePTYRequest(req.Payload)
		if *started || !ok {
			return false
		}
		size.setPTY(m.Term, int(m.Columns), int(m.Rows))
		return true
	case "window-change":
		m, ok := parseWindowChange(req.Payload)
		if !ok {
			return false
		}
		size.resize(int(m.Columns), int(m.Rows))
		return true
	case "env":
		// Accepted and ignored: the CLI has no environment.
		return true
	case "shell", "exec":
		if *started {
			return false
		}
		var cmd execMsg
		if req.Type == "exec" {
			var ok bool
			if cmd, ok = parseExec(req.Payload); !ok {
				return false
			}
		} else if len(req.Payload) != 0 {
			return false
		}
		*started = true
		t := cs.terminal(ch, size)
		go func() {
			if req.Type == "shell" {
				cs.s.cfg.Shell.Interactive(ctx, t)
				done <- 0
				return
			}
			done <- uint32(cs.s.cfg.Shell.Exec(ctx, t, cmd.Command))
		}()
		return true
	default:
		// subsystem (sftp, netconf), x11-req, auth-agent-req, signal, ...
		return false
	}
}

// sendExitStatus reports the status of the shell or command (RFC 4254 §6.10).
func sendExitStatus(ch ssh.Channel, status uint32) {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], status)
	ch.SendRequest("exit-status", false, b[:])
}
