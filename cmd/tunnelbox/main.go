// Command tunnelbox is the router appliance: it opens the configuration store, takes the Linux
// links ethN of its network namespace as its ports GigabitEthernet0/N (--links), replays the
// startup-config through the CLI grammar, and runs the IOS console on stdin/stdout (an
// interactive line editor on a terminal, a transcript runner on a pipe) or, with
// --console=false, no console at all until SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/shell"
	"github.com/tunnelbox/tunnelbox/shell/commands"
)

// storeLockTimeout is how long a second instance waits for the store lock before giving up.
const storeLockTimeout = 500 * time.Millisecond

// dataplanes are the values --dataplane accepts.
var dataplanes = []string{"auto", "kernel", "userspace", "none"}

type options struct {
	db        string
	ssh       string
	startup   string
	console   bool
	dataplane string
	links     bool
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("tunnelbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.db, "db", "tunnelbox.db", "bbolt store `FILE`: startup-config, archive of saved revisions, SSH host key")
	fs.StringVar(&o.ssh, "ssh", "127.0.0.1:2222", "SSH listen `ADDR`; empty turns SSH off")
	fs.StringVar(&o.startup, "startup-config", "", "IOS configuration `FILE` that seeds an empty store")
	fs.BoolVar(&o.console, "console", true, "run the IOS console on stdin/stdout; false: no console, run until SIGTERM")
	fs.StringVar(&o.dataplane, "dataplane", "auto", "IPsec data plane: "+strings.Join(dataplanes, "|"))
	fs.BoolVar(&o.links, "links", true, "the Linux links ethN of this network namespace are the ports GigabitEthernet0/N: "+
		"ip address and shutdown apply to them (through netlink, once configured); false: ports exist in the configuration only")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: tunnelbox [flags]\n\n"+
			"An IOS-style IPsec router in one binary. The console runs on stdin/stdout: with a terminal it\n"+
			"is interactive (?, Tab, history, --More--); with a pipe every input line is run and shown as a\n"+
			"console transcript, a line ending in ? asks for help, and end of input exits with status 0.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	ok := false
	for _, d := range dataplanes {
		ok = ok || o.dataplane == d
	}
	if !ok {
		return nil, fmt.Errorf("--dataplane must be one of %s, not %q", strings.Join(dataplanes, ", "), o.dataplane)
	}
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "tunnelbox: %v\n", err)
		os.Exit(2)
	}
	if err := run(o, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "tunnelbox: %v\n", err)
		os.Exit(1)
	}
}

// router is one running appliance.
type router struct {
	store *runningconfig.Store
	cfg   *runningconfig.Manager
	app   *shell.App
	ports *ports // nil with --links=false
}

// boot opens the store, seeds it from the startup file when empty, builds the CLI and replays
// the startup-config (bad lines are reported on logw and skipped).
func boot(o *options, logw io.Writer) (*router, error) {
	store, err := runningconfig.OpenStore(o.db, storeLockTimeout)
	if err != nil {
		if errors.Is(err, runningconfig.ErrStoreInUse) {
			return nil, fmt.Errorf("%s is in use by another tunnelbox (one process per store; use --db)", o.db)
		}
		return nil, err
	}
	r := &router{store: store}
	text, ok, err := store.Startup()
	if err != nil {
		store.Close()
		return nil, err
	}
	if !ok && o.startup != "" {
		b, err := os.ReadFile(o.startup)
		if err != nil {
			store.Close()
			return nil, fmt.Errorf("--startup-config: %w", err)
		}
		if err := store.SaveStartup(string(b)); err != nil {
			store.Close()
			return nil, fmt.Errorf("seeding the store from %s: %w", o.startup, err)
		}
		text, ok = string(b), true
	}
	r.cfg = runningconfig.NewManager(runningconfig.Default())
	reset := runningconfig.Default
	if o.links {
		if r.ports, err = openPorts(r.cfg); err != nil {
			r.close()
			return nil, err
		}
		reset = r.ports.reset
	}
	r.app, err = shell.NewApp(shell.Options{Config: r.cfg, Store: store, Reset: reset})
	if err == nil {
		err = commands.Register(r.app)
	}
	if err != nil {
		r.close()
		return nil, err
	}
	if r.ports != nil {
		r.ports.attach(r.cfg, r.app) // the startup-config below applies to the links
	}
	r.app.SetLogSink(logw)
	if ok {
		for _, e := range r.app.Replay(text) {
			fmt.Fprintf(logw, "%s %%PARSER-4-BADCFG: startup-config line %d: %s: %s\n",
				shell.LogTime(time.Now()), e.LineNo, e.Line, oneLine(e.Output))
		}
	}
	r.app.SetLogSink(nil)
	return r, nil
}

func oneLine(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(l); t != "" && t != "^" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, " ")
}

func (r *router) close() {
	if r.cfg != nil {
		r.cfg.Close()
	}
	if r.ports != nil {
		r.ports.close()
	}
	if r.store != nil {
		r.store.Close()
	}
}

func run(o *options, stdin *os.File, stdout, stderr io.Writer) error {
	r, err := boot(o, stderr)
	if err != nil {
		return err
	}
	defer r.close()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	if o.ssh != "" {
		srv, err := startSSH(r, o.ssh)
		if err != nil {
			return err
		}
		defer srv.Close()
	}
	// IKE and the data plane start when a crypto map is first bound (closed before the store).
	cp, err := newCryptoPlane(r, o.dataplane)
	if err != nil {
		return err
	}
	defer cp.Close()

	if !o.console {
		r.app.SetLogSink(stderr)
		<-ctx.Done()
		return nil
	}
	return console(ctx, r.app, stdin, stdout)
}

// console runs the console session until the user leaves it, input ends, or ctx is done
// (SIGTERM): on a terminal, interactive through chzyer/readline (shell.ServeConsole, the
// terminal raw for the whole session so the pager reads single keys); on a pipe, a
// transcript. A terminal is always restored.
func console(ctx context.Context, app *shell.App, stdin *os.File, stdout io.Writer) error {
	fd := int(stdin.Fd())
	done := make(chan error, 1)
	if !term.IsTerminal(fd) {
		s := app.NewSession(shell.SessionOptions{Line: "con 0", Length: 0})
		defer s.Close()
		go func() { done <- s.RunTranscript(stdin, stdout) }()
		select {
		case err := <-done:
			return err
		case <-ctx.Done():
			return nil
		}
	}
	width, height, err := term.GetSize(fd)
	if err != nil {
		width, height = shell.DefaultWidth, shell.DefaultLength
	}
	old, err := term.MakeRaw(fd)
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	defer term.Restore(fd, old)
	winch := make(chan [2]int, 1)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGWINCH)
	defer signal.Stop(sig)
	go func() {
		for range sig {
			if w, h, err := term.GetSize(fd); err == nil {
				select {
				case winch <- [2]int{w, h}:
				default:
				}
			}
		}
	}()
	s := app.NewSession(shell.SessionOptions{Line: "con 0", Length: height, Width: width})
	defer s.Close()
	io.WriteString(stdout, "\r\n\r\nPress RETURN to get started!\r\n\r\n")
	ct := shell.ConsoleTerminal{In: stdin, Out: stdout, Winch: winch, Width: func() int {
		w, _, err := term.GetSize(fd)
		if err != nil {
			return 0
		}
		return w
	}}
	go func() { done <- s.ServeConsole(ct) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		err = nil
	}
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}
