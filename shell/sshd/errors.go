package sshd

import "errors"

// ErrServerClosed is returned by Serve and ListenAndServe after Close.
var ErrServerClosed = errors.New("sshd: server closed")

// ErrNoUsers is the authentication error while no `username` is configured: every login
// is refused rather than falling back to any default credential.
var ErrNoUsers = errors.New("sshd: no usernames configured, login refused")

// ErrBadCredentials is the authentication error for an unknown user or a wrong password.
// It deliberately does not say which of the two it was.
var ErrBadCredentials = errors.New("sshd: login authentication failed")

// ErrNoHostKey is returned by New when the host key material holds no usable private key.
var ErrNoHostKey = errors.New("sshd: no usable host key")

// ErrNoFreeLine is logged when a connection arrives while every vty line that accepts ssh
// is busy, or no vty line accepts ssh (`transport input none|telnet`).
var ErrNoFreeLine = errors.New("sshd: no free vty line accepts ssh")
