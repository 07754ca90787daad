package sshd

import (
	"errors"
	"slices"
	"testing"
	"time"

	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
)

func mustSecret(t *testing.T, plain string, typ int) runningconfig.Secret {
	t.Helper()
	s, err := runningconfig.HashSecret(plain, typ)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConfigAccountsLogin(t *testing.T) {
	c := runningconfig.Default()
	seven, err := runningconfig.EncryptType7("p7")
	if err != nil {
		t.Fatal(err)
	}
	c.Users = []runningconfig.User{
		{Name: "admin", Privilege: 15, Secret: mustSecret(t, "s9", runningconfig.SecretScrypt)},
		{Name: "md5", Privilege: 15, Secret: mustSecret(t, "s5", runningconfig.SecretMD5)},
		{Name: "pbkdf2", Privilege: 7, Secret: mustSecret(t, "s8", runningconfig.SecretPBKDF2)},
		{Name: "plain", Privilege: 1, Password: runningconfig.Password{Type: 0, Text: "p0"}},
		{Name: "seven", Privilege: 1, Password: seven},
		{Name: "zero", Privilege: 0, Password: runningconfig.Password{Type: 0, Text: "z"}},
	}
	// vty 0-4 default; vty 5-15 with privilege level 15 for users without their own level.
	hi := runningconfig.NewLine(runningconfig.LineVTY, 5, 15)
	hi.Privilege = 15
	c.Lines = append(c.Lines, hi)
	acc := ConfigAccounts(func() *runningconfig.Config { return c })

	tests := []struct {
		line     int
		user, pw string
		wantPriv int
		wantErr  error
	}{
		{0, "admin", "s9", 15, nil},
		{0, "admin", "S9", 0, ErrBadCredentials},
		{0, "admin", "", 0, ErrBadCredentials},
		{0, "Admin", "s9", 0, ErrBadCredentials}, // usernames are case-sensitive
		{0, "md5", "s5", 15, nil},
		{0, "pbkdf2", "s8", 7, nil},
		{0, "plain", "p0", 1, nil},
		{0, "plain", "p0 ", 0, ErrBadCredentials},
		{0, "seven", "p7", 1, nil},
		{0, "seven", seven.Text, 0, ErrBadCredentials}, // the encoded form is not the password
		{0, "zero", "z", 0, nil},
		{0, "nobody", "s9", 0, ErrBadCredentials},
		{6, "plain", "p0", 15, nil}, // line privilege level applies to a level-1 user
		{6, "pbkdf2", "s8", 7, nil}, // but not over an explicit level
		{6, "zero", "z", 0, nil},    // nor over an explicit level 0
	}
	for _, tt := range tests {
		priv, err := acc.Login(tt.line, tt.user, []byte(tt.pw))
		if !errors.Is(err, tt.wantErr) || priv != tt.wantPriv {
			t.Errorf("Login(vty %d, %q, %q) = %d, %v; want %d, %v", tt.line, tt.user, tt.pw, priv, err, tt.wantPriv, tt.wantErr)
		}
	}

	empty := ConfigAccounts(func() *runningconfig.Config { return runningconfig.Default() })
	for _, pw := range []string{"", "cisco", "admin"} {
		if _, err := empty.Login(0, "admin", []byte(pw)); !errors.Is(err, ErrNoUsers) {
			t.Errorf("no users, password %q: err = %v, want ErrNoUsers", pw, err)
		}
	}
	if p := empty.Policy(); p.HasUsers {
		t.Error("Policy().HasUsers with no username")
	}
}

func TestConfigAccountsPolicy(t *testing.T) {
	c := runningconfig.Default()
	c.Users = []runningconfig.User{{Name: "u", Privilege: 1, Password: runningconfig.Password{Text: "x"}}}
	c.Lines = []runningconfig.Line{
		runningconfig.NewLine(runningconfig.LineCon, 0, 0),
		runningconfig.NewLine(runningconfig.LineVTY, 0, 1),
		runningconfig.NewLine(runningconfig.LineVTY, 2, 2),
		runningconfig.NewLine(runningconfig.LineVTY, 3, 3),
		runningconfig.NewLine(runningconfig.LineVTY, 4, 4),
	}
	c.Lines[1].Transport = runningconfig.TransportSSH
	c.Lines[1].ExecMinutes, c.Lines[1].ExecSeconds = 0, 30
	c.Lines[2].Transport = runningconfig.TransportTelnet
	c.Lines[3].Transport = runningconfig.TransportNone
	c.Lines[4].Transport = runningconfig.TransportAll
	c.Lines[4].ExecMinutes, c.Lines[4].ExecSeconds = 0, 0
	got := ConfigAccounts(func() *runningconfig.Config { return c }).Policy()
	want := Policy{HasUsers: true, Lines: []Line{
		{Number: 0, SSH: true, ExecTimeout: 30 * time.Second},
		{Number: 1, SSH: true, ExecTimeout: 30 * time.Second},
		{Number: 2, SSH: false, ExecTimeout: 10 * time.Minute},
		{Number: 3, SSH: false, ExecTimeout: 10 * time.Minute},
		{Number: 4, SSH: true, ExecTimeout: 0},
	}}
	if got.HasUsers != want.HasUsers || !slices.Equal(got.Lines, want.Lines) {
		t.Errorf("Policy() =\n%+v\nwant\n%+v", got, want)
	}
	// The IOS default: vty 0-4, ssh allowed, exec-timeout 10 0.
	def := ConfigAccounts(runningconfig.Default).Policy()
	if len(def.Lines) != 5 || !def.Lines[4].SSH || def.Lines[0].ExecTimeout != 10*time.Minute {
		t.Errorf("default policy %+v", def)
	}
}
