package sshd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Defaults from IOS (spec/ecosystem.md B5).
const (
	DefaultAuthRetries = 3                 // ip ssh authentication-retries
	DefaultAuthTimeout = 120 * time.Second // ip ssh time-out
	DefaultFailDelay   = 1500 * time.Millisecond
	serverVersion      = "SSH-2.0-Tunnelbox"
)

// Config configures a Server. HostKey, Accounts and Shell are required.
type Config struct {
	HostKey  []byte   // host key material (runningconfig.Store.HostKey), see HostSigners
	Accounts Accounts // usernames and vty lines from the running configuration
	Shell    Shell    // runs the CLI of a logged-in session
	// Log receives one IOS-style message per event (%SSH-..., %SEC_LOGIN-...), without
	// timestamp. Never a password. Nil discards.
	Log func(msg string)
	// FailDelay is how long the server waits after the last allowed failed login before it
	// disconnects; 0 means DefaultFailDelay.
	FailDelay time.Duration
}

// Server is the SSH front end. Create it with New; it is safe for concurrent use.
type Server struct {
	cfg     Config
	signers []ssh.Signer
	ctx     context.Context // cancelled by Close: ends every session
	cancel  context.CancelFunc
	linger  time.Duration // lingerAfterExit; tests shorten it

	mu        sync.Mutex // protects the fields below
	closed    bool
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	busy      map[int]bool // vty line numbers in use
	wg        sync.WaitGroup
}

// New checks cfg and decodes the host key.
func New(cfg Config) (*Server, error) {
	if cfg.Accounts == nil || cfg.Shell == nil {
		return nil, errors.New("sshd: Config needs Accounts and Shell")
	}
	signers, err := HostSigners(cfg.HostKey)
	if err != nil {
		return nil, err
	}
	if cfg.FailDelay == 0 {
		cfg.FailDelay = DefaultFailDelay
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		cfg:       cfg,
		signers:   signers,
		ctx:       ctx,
		cancel:    cancel,
		linger:    lingerAfterExit,
		listeners: map[net.Listener]struct{}{},
		conns:     map[net.Conn]struct{}{},
		busy:      map[int]bool{},
	}, nil
}

// ListenAndServe listens on the TCP address addr and serves until Close.
func (s *Server) ListenAndServe(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("sshd: %w", err)
	}
	return s.Serve(ln)
}

// Serve accepts connections on ln until Close, which also closes ln. It returns
// ErrServerClosed after Close, or the accept error that stopped it.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
		ln.Close()
	}()
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Out of file descriptors and the like: back off as net/http does.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			return fmt.Errorf("sshd: accept: %w", err)
		}
		backoff = 0
		if !s.track(c) {
			c.Close()
			return ErrServerClosed
		}
		go func() {
			defer s.untrack(c)
			s.serveConn(c)
		}()
	}
}

// Close stops every listener, ends every session, and waits until their goroutines are gone.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.cancel()
	for ln := range s.listeners {
		ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(c net.Conn) {
	c.Close()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// takeLine reserves the lowest free vty line that admits ssh.
func (s *Server) takeLine(p Policy) (Line, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range p.Lines {
		if l.SSH && !s.busy[l.Number] {
			s.busy[l.Number] = true
			return l, true
		}
	}
	return Line{}, false
}

func (s *Server) freeLine(n int) {
	s.mu.Lock()
	delete(s.busy, n)
	s.mu.Unlock()
}

// execTimeout returns the current exec-timeout of vty line n.
func (s *Server) execTimeout(n int) time.Duration {
	for _, l := range s.cfg.Accounts.Policy().Lines {
		if l.Number == n {
			return l.ExecTimeout
		}
	}
	return 0
}

func (s *Server) logf(format string, args ...any) {
	if s.cfg.Log != nil {
		s.cfg.Log(fmt.Sprintf(format, args...))
	}
}

// serveConn runs one TCP connection: line reservation, handshake, login, channels.
func (s *Server) serveConn(c net.Conn) {
	src, lport := hostOf(c.RemoteAddr()), portOf(c.LocalAddr())
	p := s.cfg.Accounts.Policy()
	line, ok := s.takeLine(p)
	if !ok {
		s.logf("%%SSH-4-SSH2_REFUSED: SSH2 connection from %s refused: %v", src, ErrNoFreeLine)
		return
	}
	defer s.freeLine(line.Number)

	timeout := p.AuthTimeout
	if timeout <= 0 {
		timeout = DefaultAuthTimeout
	}
	c.SetDeadline(time.Now().Add(timeout))
	a := &attempt{s: s, src: src, lport: lport, retries: p.AuthRetries, hasUsers: p.HasUsers, line: line.Number}
	if a.retries <= 0 {
		a.retries = DefaultAuthRetries
	}
	sc, chans, reqs, err := ssh.NewServerConn(c, s.serverConfig(a))
	if err != nil {
		return
	}
	c.SetDeadline(time.Time{})
	defer sc.Close()
	s.logf("%%SSH-5-SSH2_USERAUTH: User '%s' authentication for SSH2 Session from %s (tty = %d) Succeeded",
		sc.User(), src, line.Number)
	s.logf("%%SEC_LOGIN-5-LOGIN_SUCCESS: Login Success [user: %s] [Source: %s] [localport: %d] at %s",
		sc.User(), src, lport, stamp())
	go ssh.DiscardRequests(reqs)

	sess := &connSession{s: s, sc: sc, line: line.Number, priv: a.privilege, user: sc.User()}
	sess.serve(chans)
	s.logf("%%SSH-5-SSH2_CLOSE: SSH2 Session from %s (tty = %d) for user '%s' closed",
		src, line.Number, sc.User())
}

func hostOf(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String()
	}
	h, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return h
}

func portOf(a net.Addr) int {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.Port
	}
	_, p, err := net.SplitHostPort(a.String())
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(p)
	return n
}
