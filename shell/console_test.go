package shell_test

import (
	"io"
	"strings"
	"testing"

	"github.com/tunnelbox/tunnelbox/shell"
)

// startConsole runs ServeConsole on a scripted terminal 80 columns wide.
func startConsole(t *testing.T, app *shell.App, opts shell.SessionOptions) (*term, <-chan error, chan [2]int) {
	t.Helper()
	s := app.NewSession(opts)
	t.Cleanup(s.Close)
	tm := newTerm(t)
	winch := make(chan [2]int, 1)
	done := make(chan error, 1)
	go func() {
		done <- s.ServeConsole(shell.ConsoleTerminal{In: tm.rw, Out: tm.rw, Width: func() int { return 80 }, Winch: winch})
	}()
	return tm, done, winch
}

func TestConsoleReadline(t *testing.T) {
	app := newTestApp(t)
	tm, done, _ := startConsole(t, app, shell.SessionOptions{Line: "con 0", Privilege: 15})

	tm.expect("Router#")
	// Tab completes through the grammar, respelling the word.
	tm.send("SH\t")
	tm.expect("Router#show ")
	// ? acts at once: the listing, then the prompt and the input again.
	tm.send("?")
	tm.expect("?\r\n")
	tm.expect("  version         System hardware and software status\r\n")
	tm.expect("Router#show ")
	tm.send("ver\r")
	tm.expect("Router uptime is 1 day, 2 hours, 3 minutes\r\n")
	// Word help in the middle of a word.
	tm.send("show privi?")
	tm.expect("privilege  \r\n")
	tm.expect("Router#show privi")
	tm.send("\x15") // Ctrl-U: kill the line
	// Editing keys: Ctrl-A, Ctrl-D, Ctrl-E, Ctrl-W, Backspace, arrows, Ctrl-X.
	tm.send("xshow privilege\x01\x04\r")
	tm.expect("Current privilege level is 15\r\n")
	tm.send("show foo\x17privilege\r")
	tm.expect("Current privilege level is 15\r\n")
	tm.send("show privilegX\x7fe\x1b[D\x1b[C\r")
	tm.expect("Current privilege level is 15\r\n")
	tm.send("garbage\x18show privilege\r")
	tm.expect("Current privilege level is 15\r\n")
	// Ctrl-D on an empty line is not end of input, Ctrl-S and Ctrl-R do not search.
	tm.send("\x04\x13\x12show privilege\r")
	tm.expect("Current privilege level is 15\r\n")
	// Ctrl-Z in config mode shows ^Z and returns to EXEC, dropping the line.
	tm.send("conf t\r")
	tm.expect("Router(config)#")
	tm.send("interface loopback 7\r")
	tm.expect("Router(config-if)#")
	tm.send("descr\x1a")
	tm.expect("descr^Z\r\n")
	tm.expect("%SYS-5-CONFIG_I: Configured from console by console")
	tm.expect("Router#")
	// Up recalls the EXEC history (config lines are a group of their own).
	tm.send("\x1b[A")
	tm.expect("Router#conf t")
	tm.send("\x1b[A")
	tm.expect("Router#show privilege")
	tm.send("\x15terminal length 4\r")
	tm.expect("Router#")
	// Keys typed ahead while output runs reach the pager: space, Enter, then q.
	tm.send("show running-config\r \rq")
	tm.expect(" --More-- ")
	tm.expect("\b\b\b\b\b\b\b\b\b\b          \b\b\b\b\b\b\b\b\b\b")
	tm.expect(" --More-- ")
	tm.expect(" --More-- ")
	tm.expect("Router#")
	tm.send("show privilege\r")
	tm.expect("Current privilege level is 15\r\n")
	if strings.Contains(tm.out.String(), "Router#qshow") {
		t.Fatal("the pager's q reached the next line")
	}
	tm.send("exit\r")
	if err := <-done; err != nil {
		t.Fatalf("ServeConsole returned %v after exit", err)
	}
}

// TestConsolePasswordAndMessages: enable's Password: prompt reads the keys typed ahead without
// echo, and a log message that arrives while the console waits is printed above the prompt.
func TestConsolePasswordAndMessages(t *testing.T) {
	app := newTestApp(t)
	con := app.NewSession(shell.SessionOptions{Line: "con 1", Privilege: 15})
	defer con.Close()
	con.RunLine("configure terminal")
	con.RunLine("enable secret 0 topsecret")
	con.RunLine("end")

	tm, done, winch := startConsole(t, app, shell.SessionOptions{Line: "con 0", Length: -1})
	tm.expect("Router>")
	tm.send("enable\rtopsecret\r")
	tm.expect("Password: ")
	tm.expect("Router#")
	if strings.Contains(tm.out.String(), "topsecret") {
		t.Fatal("the secret was echoed")
	}
	tm.send("show privi")
	app.Logf("%%LINK-3-UPDOWN: Interface GigabitEthernet0/0, changed state to up")
	tm.expect("%LINK-3-UPDOWN: Interface GigabitEthernet0/0, changed state to up\r\n")
	tm.expect("Router#show privi")
	tm.send("lege\r")
	tm.expect("Current privilege level is 15\r\n")
	winch <- [2]int{100, 3}
	tm.send("show running-config\r")
	tm.expect(" --More-- ")
	tm.send("q")
	tm.expect("Router#")
	tm.in.Close()
	if err := <-done; err != io.EOF {
		t.Fatalf("ServeConsole = %v at end of input, want io.EOF", err)
	}
}
