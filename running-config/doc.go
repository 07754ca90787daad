// Package runningconfig holds the router's configuration: a typed model of what IOS shows in
// `show running-config`, the owner that changes it atomically, its rendering as IOS text, the
// IOS credential formats, and the bbolt store behind `write memory`.
//
// # Model
//
// Config is the whole configuration. The system part (hostname, enable secret/password,
// usernames, service password-encryption, interfaces, static routes, `ip domain lookup`,
// terminal lines) is declared in config.go. Other subtrees live in their own files as a Part
// (crypto: isakmp policies, keys, transform sets, crypto maps; access lists), stored on the
// Config by name and given a typed accessor in their file; they take part in Clone, Validate
// and Render without any change to the system files. Interface blocks already carry the
// fields that point into those parts (`crypto map NAME`, `ip access-group ACL in|out`).
//
// # Changes
//
// Manager owns the running configuration on one goroutine. Apply clones the running snapshot,
// runs an edit function on the clone, validates it (Config.Validate, then every Subscriber's
// Validate), and only then makes it the running configuration and calls every Subscriber's
// Commit. Any error, or a panic in the edit, leaves the running configuration untouched.
// Running returns the current snapshot without blocking; snapshots are immutable and shared,
// so a reader may keep one as long as it likes but must never modify it.
//
// # Rendering
//
// Render produces `show running-config` byte for byte in IOS order and spacing (see
// spec/ios-cli.md 4.11): the "Building configuration..." / "Current configuration : N bytes"
// header, where N is the length of the text that follows, then "!"-separated blocks down to
// "end". Body is that text alone; it is also the startup-config that `write memory` saves
// (StartupText) and that boot replays through the shell's parser, so storage never drifts
// from the grammar. Parts write at fixed Slots between the system blocks.
//
// # Credentials
//
// Secrets (`enable secret`, `username ... secret`) are one-way: type 9 (scrypt) is generated
// by default, type 8 (PBKDF2-SHA256) and type 5 (md5crypt) on request, and types 4, 5, 8, 9
// are accepted pre-hashed. Passwords (`enable password`, `username ... password`, line
// `password`) are reversible: type 0, or type 7 once `service password-encryption` is on.
// Type 7 is an obfuscation, not a protection. Verify and Password.Verify check a typed
// password.
//
// # Persistence
//
// Store is a bbolt file opened with a lock timeout (a second process fails at once with
// ErrStoreInUse) that holds the startup-config, an archive of the last ArchiveRevisions saves,
// the SSH host keys and a format version. Every write is one transaction, so a kill at any
// moment leaves the old or the new startup-config, never a torn one. A file that is not a
// consistent tunnelbox store is reported with ErrStoreCorrupt and never overwritten.
//
// # Caveats
//
//   - Pointers returned by Config helper methods (Interface, EnsureInterface, User,
//     LineBlocks) point into the Config's slices: use them only inside an Apply edit, and
//     only until the next insertion or deletion.
//   - Subscribers and edit functions run on the Manager's goroutine and must not call Apply.
//
// The sub-package netif applies the interface part of a configuration to Linux links and lists
// them for `show ip interface brief`.
package runningconfig
