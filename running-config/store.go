package runningconfig

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Store layout (bbolt buckets and keys):
//
//	meta      format  -> "1" (StoreFormat)
//	startup   text    -> the startup-config text; absent after EraseStartup
//	          saved   -> time of the last SaveStartup, RFC 3339 with nanoseconds
//	archive   <seq>   -> 8-byte big-endian Unix nanoseconds + text; seq is a big-endian uint64
//	                     from the bucket sequence; only the last ArchiveRevisions are kept
//	hostkeys  ed25519 -> PKCS#8 PEM private key
//	          rsa     -> PKCS#8 PEM private key (RSA-3072)
//
// Every write is one Update transaction, so a crash (kill -9, power loss) leaves either the old
// or the new state, never a mix: bbolt writes the data pages, fsyncs, then flips the meta page.
const (
	StoreFormat      = 1
	ArchiveRevisions = 20

	// DefaultLockTimeout is used by OpenStore when given a timeout <= 0. A second process
	// opening the same file fails after this long instead of hanging.
	DefaultLockTimeout = 500 * time.Millisecond
)

var (
	bucketMeta     = []byte("meta")
	bucketStartup  = []byte("startup")
	bucketArchive  = []byte("archive")
	bucketHostKeys = []byte("hostkeys")

	keyFormat = []byte("format")
	keyText   = []byte("text")
	keySaved  = []byte("saved")
)

// Store is the persistent state of one router: startup-config, its archive, SSH host keys.
// It is safe for concurrent use by the goroutines of one process; a second process cannot open
// the same file while it is open.
type Store struct {
	db   *bolt.DB
	path string
}

// Revision is one archived startup-config.
type Revision struct {
	Seq   uint64
	Saved time.Time
	Text  string
}

// OpenStore opens (creating if needed) the store at path. If another process has it open, it
// fails after timeout with an error wrapping ErrStoreInUse ("running-config: store FILE is in
// use by another process"). A file that is not a bbolt database, fails its consistency check,
// or is some other program's bbolt database gives an error wrapping ErrStoreCorrupt, and the
// file is left untouched.
func OpenStore(path string, timeout time.Duration) (*Store, error) {
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := createStore(path, timeout); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, &StorePathError{Path: path, Cause: err}
	case info.Size() > 0:
		// Look before writing: a read-only open never modifies the file.
		if err := inspectStore(path, timeout); err != nil {
			return nil, err
		}
	}
	db, err := openBolt(path, timeout, false)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, path: path}
	if err := s.update(initBuckets); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// openBolt opens path with a lock timeout and classifies the failure.
func openBolt(path string, timeout time.Duration, readOnly bool) (db *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, &StorePathError{Path: path, Err: ErrStoreCorrupt, Cause: fmt.Errorf("bbolt panicked: %v", r)}
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, ReadOnly: readOnly})
	if err == nil {
		return db, nil
	}
	var pe *fs.PathError
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, &StorePathError{Path: path, Err: ErrStoreInUse, Cause: err}
	case errors.As(err, &pe):
		return nil, &StorePathError{Path: path, Cause: err}
	default: // invalid database, version mismatch, checksum, file too small, mmap failures
		return nil, &StorePathError{Path: path, Err: ErrStoreCorrupt, Cause: err}
	}
}

// inspectStore opens an existing file read-only and checks it is a consistent tunnelbox store
// of a known format version (or an empty bbolt database).
func inspectStore(path string, timeout time.Duration) error {
	db, err := openBolt(path, timeout, true)
	if err != nil {
		return err
	}
	defer db.Close()
	s := &Store{db: db, path: path}
	return s.view(func(tx *bolt.Tx) error {
		if err := checkTx(tx); err != nil {
			return err
		}
		empty := true
		if err := tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil }); err != nil {
			return corrupt(err)
		}
		if empty {
			return nil // bbolt initialised, buckets not yet created: treated as new
		}
		return checkFormat(tx)
	})
}

func checkFormat(tx *bolt.Tx) error {
	m := tx.Bucket(bucketMeta)
	if m == nil {
		return corrupt(errors.New("no meta bucket: not a tunnelbox store"))
	}
	v := m.Get(keyFormat)
	if len(v) == 0 {
		return corrupt(errors.New("no format version"))
	}
	var n int
	if _, err := fmt.Sscanf(string(v), "%d", &n); err != nil || fmt.Sprint(n) != string(v) {
		return corrupt(fmt.Errorf("bad format version %q", v))
	}
	if n != StoreFormat {
		return &StorePathError{Err: ErrStoreVersion, Cause: fmt.Errorf("format version %d, this build reads %d", n, StoreFormat)}
	}
	for _, b := range [][]byte{bucketStartup, bucketArchive, bucketHostKeys} {
		if tx.Bucket(b) == nil {
			return corrupt(fmt.Errorf("missing bucket %s", b))
		}
	}
	return nil
}

// initBuckets creates the buckets of a fresh store, or checks an existing one.
func initBuckets(tx *bolt.Tx) error {
	if tx.Bucket(bucketMeta) != nil {
		return checkFormat(tx)
	}
	empty := true
	if err := tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil }); err != nil {
		return err
	}
	if !empty {
		return corrupt(errors.New("no meta bucket: not a tunnelbox store"))
	}
	for _, b := range [][]byte{bucketMeta, bucketStartup, bucketArchive, bucketHostKeys} {
		if _, err := tx.CreateBucket(b); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketMeta).Put(keyFormat, []byte(fmt.Sprint(StoreFormat)))
}

// createStore builds a new store under a temporary name and links it into place, so that a
// crash during bbolt's initialisation (its one known corruption window) never leaves a broken
// file at path. If another process created path meanwhile, its file wins.
func createStore(path string, timeout time.Duration) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".new-*")
	if err != nil {
		return &StorePathError{Path: path, Cause: err}
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpName)
	db, err := openBolt(tmpName, timeout, false)
	if err != nil {
		return err
	}
	s := &Store{db: db, path: tmpName}
	err = s.update(initBuckets)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return &StorePathError{Path: path, Cause: err}
	}
	if err := os.Link(tmpName, path); err != nil && !errors.Is(err, fs.ErrExist) {
		return &StorePathError{Path: path, Cause: err}
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the new directory entry durable
		d.Close()
	}
	return nil
}

func corrupt(cause error) error { return &StorePathError{Err: ErrStoreCorrupt, Cause: cause} }

// withPath fills in the file name of a StorePathError raised inside a transaction.
func (s *Store) withPath(err error) error {
	var pe *StorePathError
	if errors.As(err, &pe) && pe.Path == "" {
		pe.Path = s.path
	}
	return err
}

// update runs fn in one read-write transaction; a bbolt panic on a damaged file becomes an
// ErrStoreCorrupt error.
func (s *Store) update(fn func(tx *bolt.Tx) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = corrupt(fmt.Errorf("bbolt panicked: %v", r))
		}
		err = s.withPath(err)
	}()
	return s.db.Update(fn)
}

// view runs fn in one read-only transaction, like update.
func (s *Store) view(fn func(tx *bolt.Tx) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = corrupt(fmt.Errorf("bbolt panicked: %v", r))
		}
		err = s.withPath(err)
	}()
	return s.db.View(fn)
}

// bucket returns the named bucket or an ErrStoreCorrupt error.
func bucket(tx *bolt.Tx, name []byte) (*bolt.Bucket, error) {
	if b := tx.Bucket(name); b != nil {
		return b, nil
	}
	return nil, corrupt(fmt.Errorf("missing bucket %s", name))
}

// Path is the file name of the store.
func (s *Store) Path() string { return s.path }

// Close releases the file and its lock.
func (s *Store) Close() error { return s.db.Close() }

// SaveStartup stores text as the startup-config and appends it to the archive, dropping the
// oldest revisions beyond ArchiveRevisions, all in one transaction.
func (s *Store) SaveStartup(text string) error {
	now := time.Now()
	return s.update(func(tx *bolt.Tx) error {
		st, err := bucket(tx, bucketStartup)
		if err != nil {
			return err
		}
		ar, err := bucket(tx, bucketArchive)
		if err != nil {
			return err
		}
		if err := st.Put(keyText, []byte(text)); err != nil {
			return err
		}
		if err := st.Put(keySaved, []byte(now.UTC().Format(time.RFC3339Nano))); err != nil {
			return err
		}
		seq, err := ar.NextSequence()
		if err != nil {
			return err
		}
		rec := make([]byte, 8, 8+len(text))
		binary.BigEndian.PutUint64(rec, uint64(now.UnixNano()))
		rec = append(rec, text...)
		if err := ar.Put(binary.BigEndian.AppendUint64(nil, seq), rec); err != nil {
			return err
		}
		return trimArchive(ar, ArchiveRevisions)
	})
}

func trimArchive(ar *bolt.Bucket, keep int) error {
	n := 0
	c := ar.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	for k, _ := c.First(); k != nil && n > keep; k, _ = c.First() {
		if err := c.Delete(); err != nil {
			return err
		}
		n--
	}
	return nil
}

// Startup returns the saved startup-config; ok is false when none is saved.
func (s *Store) Startup() (text string, ok bool, err error) {
	err = s.view(func(tx *bolt.Tx) error {
		st, err := bucket(tx, bucketStartup)
		if err != nil {
			return err
		}
		if v := st.Get(keyText); v != nil {
			text, ok = string(v), true // string() copies: v is valid only inside the tx
		}
		return nil
	})
	return text, ok, err
}

// SavedAt returns when the startup-config was last saved (zero if never or erased).
func (s *Store) SavedAt() (time.Time, error) {
	var t time.Time
	err := s.view(func(tx *bolt.Tx) error {
		st, err := bucket(tx, bucketStartup)
		if err != nil {
			return err
		}
		if v := st.Get(keySaved); v != nil {
			var perr error
			if t, perr = time.Parse(time.RFC3339Nano, string(v)); perr != nil {
				return corrupt(fmt.Errorf("saved time %q: %w", v, perr))
			}
		}
		return nil
	})
	return t, err
}

// EraseStartup deletes the startup-config (`erase startup-config`); the archive is kept.
func (s *Store) EraseStartup() error {
	return s.update(func(tx *bolt.Tx) error {
		st, err := bucket(tx, bucketStartup)
		if err != nil {
			return err
		}
		if err := st.Delete(keyText); err != nil {
			return err
		}
		return st.Delete(keySaved)
	})
}

// Archive returns the archived revisions, oldest first.
func (s *Store) Archive() ([]Revision, error) {
	var out []Revision
	err := s.view(func(tx *bolt.Tx) error {
		ar, err := bucket(tx, bucketArchive)
		if err != nil {
			return err
		}
		return ar.ForEach(func(k, v []byte) error {
			if len(k) != 8 || len(v) < 8 {
				return corrupt(fmt.Errorf("archive record %x has a bad length", k))
			}
			out = append(out, Revision{
				Seq:   binary.BigEndian.Uint64(k),
				Saved: time.Unix(0, int64(binary.BigEndian.Uint64(v[:8]))),
				Text:  string(v[8:]),
			})
			return nil
		})
	})
	return out, err
}

// Check runs bbolt's consistency check over the whole file.
func (s *Store) Check() error {
	return s.view(checkTx)
}

// checkTx runs bbolt's consistency check in tx and returns the first problem. The channel is
// drained to the end: the checker goroutine must finish before the transaction closes.
func checkTx(tx *bolt.Tx) error {
	var first error
	for err := range tx.Check() {
		if first == nil {
			first = corrupt(fmt.Errorf("consistency check: %w", err))
		}
	}
	return first
}

// HostKey returns the router's ed25519 SSH host key as a PKCS#8 PEM private key, generating
// and storing it on first use.
func (s *Store) HostKey() ([]byte, error) {
	return s.hostKey("ed25519", func() (any, error) {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	})
}

// HostKeyRSA returns the router's RSA-3072 SSH host key (PKCS#8 PEM), generating it on first use.
func (s *Store) HostKeyRSA() ([]byte, error) {
	return s.hostKey("rsa", func() (any, error) { return rsa.GenerateKey(rand.Reader, 3072) })
}

func (s *Store) hostKey(name string, gen func() (any, error)) ([]byte, error) {
	var out []byte
	err := s.view(func(tx *bolt.Tx) error {
		hk, err := bucket(tx, bucketHostKeys)
		if err != nil {
			return err
		}
		out = bytes.Clone(hk.Get([]byte(name)))
		return nil
	})
	if err != nil || out != nil {
		return out, err
	}
	// Generate outside the write transaction (RSA takes a while), then store unless another
	// goroutine stored one first.
	key, err := gen()
	if err != nil {
		return nil, fmt.Errorf("running-config: generate %s host key: %w", name, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("running-config: encode %s host key: %w", name, err)
	}
	fresh := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	err = s.update(func(tx *bolt.Tx) error {
		hk, err := bucket(tx, bucketHostKeys)
		if err != nil {
			return err
		}
		if v := hk.Get([]byte(name)); v != nil {
			out = bytes.Clone(v)
			return nil
		}
		out = fresh
		return hk.Put([]byte(name), fresh)
	})
	return out, err
}
